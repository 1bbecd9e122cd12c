namespace Work;

/// <summary>Defaults shared by the silo host and its clients.</summary>
public static class WorkDefaults
{
    /// <summary>
    /// The service and cluster id of the silo host's localhost cluster. Grain state and reminders are keyed by the
    /// service id, so it must not change between restarts; clients must present the same cluster id.
    /// </summary>
    public const string ClusterId = "work";

    /// <summary>The gateway port of the silo host.</summary>
    public const int GatewayPort = 30000;
}
