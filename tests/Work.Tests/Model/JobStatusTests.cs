namespace Work.Tests.Model;

public sealed class JobStatusTests
{
    [Theory]
    [InlineData(JobStatus.Unknown, -1)]
    [InlineData(JobStatus.Success, 200)]
    [InlineData(JobStatus.BadRequest, 400)]
    [InlineData(JobStatus.Unauthorized, 401)]
    [InlineData(JobStatus.Forbidden, 403)]
    [InlineData(JobStatus.Timeout, 408)]
    [InlineData(JobStatus.NoResponse, 444)]
    [InlineData(JobStatus.InternalError, 500)]
    [InlineData(JobStatus.Unavailable, 503)]
    public void StatusesKeepGoWorkCodes(JobStatus status, int code)
    {
        Assert.Equal(code, (int)status);
        Assert.Equal(code.ToString(System.Globalization.CultureInfo.InvariantCulture), status.ToCode());
    }

    [Fact]
    public void OnlyTimeoutInternalErrorAndUnavailableCountAsServerErrors()
    {
        var serverErrors = Enum.GetValues<JobStatus>().Where(s => s.IsServerError()).ToArray();
        Assert.Equal([JobStatus.Timeout, JobStatus.InternalError, JobStatus.Unavailable], serverErrors);
    }

    [Fact]
    public void NoResponseIsAnErrorCodeButNotAFailure()
    {
        Assert.True(JobStatus.NoResponse.IsError());
        Assert.False(JobStatus.NoResponse.IsFailure());
        Assert.True(JobStatus.BadRequest.IsFailure());
        Assert.False(JobStatus.Success.IsFailure());
    }

    [Fact]
    public void ErrorsAreFourHundredAndAbove()
    {
        var errors = Enum.GetValues<JobStatus>().Where(s => s.IsError()).ToArray();
        Assert.Equal(
            [JobStatus.BadRequest, JobStatus.Unauthorized, JobStatus.Forbidden, JobStatus.Timeout, JobStatus.NoResponse, JobStatus.InternalError, JobStatus.Unavailable],
            errors);
    }
}
