using Work.Scheduling;

namespace Work.Tests.Scheduling;

public sealed class ReminderKeeperTests
{
    private readonly List<string> _calls = [];
    private readonly Queue<TaskCompletionSource> _answers = new();
    private readonly List<Exception> _failures = [];
    private readonly ReminderKeeper _keeper;

    public ReminderKeeperTests() => _keeper = new ReminderKeeper(() => Call("register"), () => Call("unregister"), _failures.Add);

    private Task Call(string what)
    {
        _calls.Add(what);
        var answer = new TaskCompletionSource();
        _answers.Enqueue(answer);
        return answer.Task;
    }

    [Fact]
    public void RegistersOnceWhileNeededAndUnregistersWhenNot()
    {
        _keeper.Set(true);
        _answers.Dequeue().SetResult();
        _keeper.Set(true);
        _keeper.Set(false);
        _answers.Dequeue().SetResult();
        _keeper.Set(false);

        Assert.Equal(["register", "unregister"], _calls);
        Assert.False(_keeper.Registered);
    }

    [Fact]
    public void AChangeWhileAnUpdateIsUnderWayIsAppliedAfterIt()
    {
        _keeper.Set(true);
        _keeper.Set(false);
        _keeper.Set(true);
        _keeper.Set(false);

        // The reminder service is slow: nothing else is asked of it until it answers.
        Assert.Equal(["register"], _calls);
        _answers.Dequeue().SetResult();
        Assert.Equal(["register", "unregister"], _calls);
        _answers.Dequeue().SetResult();

        Assert.True(_keeper.Update.IsCompletedSuccessfully);
        Assert.False(_keeper.Registered);
    }

    [Fact]
    public void AFailedUpdateIsToldAndTriedAgainAtTheNextChange()
    {
        _keeper.Set(true);
        _answers.Dequeue().SetException(new TimeoutException("the reminder service did not answer"));

        Assert.IsType<TimeoutException>(Assert.Single(_failures));
        Assert.Null(_keeper.Registered);
        _keeper.Set(true);
        _answers.Dequeue().SetResult();
        Assert.Equal(["register", "register"], _calls);
        Assert.True(_keeper.Registered);
    }
}
