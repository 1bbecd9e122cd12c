using Work.Cli;

await using var connector = new ClusterConnector();
var cli = new WorkCli(connector.ConnectAsync);
return await cli.RunAsync(args, Console.Out, Console.Error);
