namespace Work;

/// <summary>
/// A job could not read or write its stored state: the database did not answer, or what it holds cannot be read.
/// What the call asked for was not acknowledged; the job keeps trying to write what it has. Repeating the call later
/// is safe for calls that can be repeated.
/// </summary>
[GenerateSerializer, Alias("work.storage-exception")]
public sealed class JobStorageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobStorageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public JobStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause (which is not sent to callers in other processes).</summary>
    public JobStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
