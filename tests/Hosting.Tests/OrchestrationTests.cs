using Gateway.Hosting.Orchestration;

namespace Gateway.Hosting.Tests;

public class OrchestrationTests
{
    [Fact]
    public void Command_line_switches_are_the_GATEWAY_settings()
    {
        var arguments = CommandLine.ToConfigurationArguments(["--data", "/var/tmp/g", "--edge-url=http://127.0.0.1:9000", "plain", "--ConnectionStrings:redis=r:1"]);

        Assert.Equal(["--GATEWAY_DATA", "/var/tmp/g", "--GATEWAY_EDGE_URL=http://127.0.0.1:9000", "plain", "--ConnectionStrings:redis=r:1"], arguments);
    }

    [Fact]
    public void Restarts_back_off_from_one_second_to_thirty_and_start_over_after_a_stable_run()
    {
        var backoff = new RestartBackoff();

        var delays = Enumerable.Range(0, 7).Select(_ => backoff.Next().TotalSeconds).ToList();
        backoff.RanFor(TimeSpan.FromMinutes(2));

        Assert.Equal([1, 2, 4, 8, 16, 30, 30], delays);
        Assert.Equal(1, backoff.Next().TotalSeconds);
    }

    [Fact]
    public void A_project_gets_only_Aspire_names_for_what_it_references()
    {
        var postgres = new PostgresServerResource("postgres", "Host=db.internal;Port=5433;Username=app;Password=secret");
        var billingDb = new PostgresDatabaseResource("billingdb", "billingdb", postgres);
        postgres.Databases.Add(billingDb);
        var redis = new RedisResource("redis", "cache.internal:6380");
        var rabbit = new RabbitMQServerResource("rabbitmq", "amqp://u:p@mq.internal:5672/");
        var billing = new ProjectResource("billing", "/nowhere/Billing.csproj");
        var chat = new ProjectResource("chat", "/nowhere/Chat.csproj");
        chat.References.AddRange([billingDb, redis, rabbit, billing]);
        chat.Environment["Extra__Setting"] = () => "yes";
        var output = new ResourceOutput(10, verbose: false);
        var runners = new Dictionary<IResource, ResourceRunner>();
        ResourceRunner RunnerOf(IResource r) => runners[r];
        runners[postgres] = runners[billingDb] = new PostgresRunner(postgres, "/unused", output);
        runners[redis] = new RedisRunner(redis, "/unused", output);
        runners[rabbit] = new RabbitMqRunner(rabbit, "/unused", output);
        runners[billing] = new ProjectRunner(billing, output, RunnerOf);

        var environment = ProjectEnvironment.For(chat, "http://127.0.0.1:4000", RunnerOf);

        Assert.Equal("Host=db.internal;Port=5433;Username=app;Password=secret;Database=billingdb", environment["ConnectionStrings__billingdb"]);
        Assert.Equal("cache.internal:6380", environment["ConnectionStrings__redis"]);
        Assert.Equal("amqp://u:p@mq.internal:5672/", environment["ConnectionStrings__rabbitmq"]);
        Assert.Equal(((ProjectRunner)runners[billing]).Url, environment["services__billing__http__0"]);
        Assert.StartsWith("http://127.0.0.1:", environment["services__billing__http__0"]);
        Assert.Equal("http://127.0.0.1:4000", environment["ASPNETCORE_URLS"]);
        Assert.Equal("Development", environment["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("chat", environment["OTEL_SERVICE_NAME"]);
        Assert.Equal("yes", environment["Extra__Setting"]);
        Assert.DoesNotContain(environment, e => e.Key.StartsWith("ConnectionStrings__", StringComparison.Ordinal) && e.Value is not null
            && e.Key is not ("ConnectionStrings__billingdb" or "ConnectionStrings__redis" or "ConnectionStrings__rabbitmq"));
    }

    [Fact]
    public void Projects_stop_before_what_they_wait_for_and_before_the_projects_they_call()
    {
        var redis = new RedisResource("redis", "x:1");
        var billing = new ProjectResource("billing", "/nowhere/Billing.csproj");
        var chat = new ProjectResource("chat", "/nowhere/Chat.csproj");
        var edge = new ProjectResource("edge", "/nowhere/Edge.csproj");
        billing.WaitsFor.Add(redis);
        chat.References.Add(billing);
        billing.References.Add(chat); // each calls the other: only one of the two stop edges can exist
        edge.References.AddRange([chat, billing]);
        edge.WaitsFor.AddRange([chat, billing]);
        var output = new ResourceOutput(10, verbose: false);
        var runners = new Dictionary<IResource, ResourceRunner>();
        runners[redis] = new RedisRunner(redis, "/unused", output);
        foreach (var project in new[] { billing, chat, edge })
        {
            runners[project] = new ProjectRunner(project, output, r => runners[r]);
        }

        DependencyGraph.Link([.. runners.Values], r => runners[r]);

        Assert.Equal([runners[chat], runners[billing]], runners[edge].StartsAfter);
        Assert.Contains(runners[redis], runners[billing].StopBeforeThese);
        Assert.Contains(runners[chat], runners[edge].StopBeforeThese);
        Assert.True(runners[chat].StopBeforeThese.Contains(runners[billing]) ^ runners[billing].StopBeforeThese.Contains(runners[chat]));
    }

    [Fact]
    public void Resources_that_wait_for_each_other_are_refused_with_the_circle()
    {
        var a = new ProjectResource("a", "/nowhere/A.csproj");
        var b = new ProjectResource("b", "/nowhere/B.csproj");
        a.WaitsFor.Add(b);
        b.WaitsFor.Add(a);
        var output = new ResourceOutput(10, verbose: false);
        var runners = new Dictionary<IResource, ResourceRunner>();
        runners[a] = new ProjectRunner(a, output, r => runners[r]);
        runners[b] = new ProjectRunner(b, output, r => runners[r]);

        var error = Assert.Throws<AppHostException>(() => DependencyGraph.Link([.. runners.Values], r => runners[r]));

        Assert.Contains("a -> b -> a", error.Message);
    }

    [Fact]
    public void The_table_lines_up_its_columns()
    {
        var table = StatusTable.Format([
            new ResourceSnapshot("postgres", "postgres", ResourceState.Running, 123, "127.0.0.1:5432", 0),
            new ResourceSnapshot("identitydb", "database", ResourceState.Running, null, "postgres/identitydb", 0),
        ]);

        var lines = table.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal(lines[0].IndexOf("STATE", StringComparison.Ordinal), lines[1].IndexOf("Running", StringComparison.Ordinal));
        Assert.Contains("  -  ", lines[2]);
    }
}
