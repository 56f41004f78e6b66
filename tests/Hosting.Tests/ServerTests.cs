using System.Diagnostics;
using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Gateway.Hosting.Servers;
using Gateway.Testing;
using Npgsql;
using StackExchange.Redis;

namespace Gateway.Hosting.Tests;

/// <summary>The local servers as Aspire runs them: the AppHost's own resources, started by the test fixture's code.</summary>
public sealed class ServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_server_answers_only_with_its_password_on_loopback_and_no_password_is_kept_in_the_data_folder()
    {
        await using var servers = await LocalServers.StartAsync(Declare, Ct);

        var postgres = new NpgsqlConnectionStringBuilder(await servers.ConnectionStringAsync("postgres")) { Pooling = false };
        Assert.Equal("127.0.0.1", await ScalarAsync<string>(postgres.ConnectionString, "SHOW listen_addresses"));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<int>(postgres.ConnectionString.Replace(postgres.Password!, "wrong"), "SELECT 1"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);

        var redis = await servers.ConnectionStringAsync("redis");
        await using (var signedIn = await ConnectionMultiplexer.ConnectAsync(redis))
        {
            Assert.Equal("PONG", (await signedIn.GetDatabase().ExecuteAsync("PING")).ToString());
        }
        await using (var anonymous = await ConnectionMultiplexer.ConnectAsync(redis[..redis.IndexOf(",password=", StringComparison.Ordinal)] + ",abortConnect=false"))
        {
            await Assert.ThrowsAnyAsync<RedisException>(() => anonymous.GetDatabase().PingAsync());
        }

        var rabbitmq = servers.Resource<LocalRabbitMQServer>("rabbitmq");
        Assert.DoesNotContain("guest", await servers.ConnectionStringAsync("rabbitmq"));
        using var management = await rabbitmq.ManagementClientAsync(Ct);
        Assert.DoesNotContain("\"guest\"", await management.GetStringAsync("api/users", Ct));
        using var asGuest = new HttpClient { BaseAddress = rabbitmq.ManagementUri };
        asGuest.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await asGuest.GetAsync("api/overview", Ct)).StatusCode);

        string[] passwords = [postgres.Password!, redis[(redis.IndexOf(",password=", StringComparison.Ordinal) + 10)..], (await rabbitmq.Password.GetValueAsync(Ct))!];
        var data = Path.GetDirectoryName(rabbitmq.DataDirectory)!;
        var holding = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories)
            .Where(file => new FileInfo(file).Length < 10_000_000 && passwords.Any(File.ReadAllText(file).Contains))
            .ToList();
        Assert.Empty(holding);
    }

    [Fact]
    public async Task A_server_killed_with_SIGKILL_comes_back_on_its_port_with_its_data_and_one_stopped_stays_stopped()
    {
        await using var servers = await LocalServers.StartAsync(builder => builder.AddPostgresServer("postgres"), Ct);
        var postgres = new NpgsqlConnectionStringBuilder(await servers.ConnectionStringAsync("postgres")) { Pooling = false }.ConnectionString;
        await ScalarAsync<int>(postgres, "CREATE TABLE kept(value int); INSERT INTO kept VALUES (42); SELECT 1");
        var server = servers.Resource<LocalPostgresServer>("postgres");
        var postmaster = int.Parse(File.ReadLines(Path.Combine(server.DataDirectory, "postmaster.pid")).First());

        Process.GetProcessById(postmaster).Kill();
        await servers.WaitForStateAsync("postgres", KnownResourceStates.Exited, KnownResourceStates.Finished);
        await servers.WaitForStateAsync("postgres", KnownResourceStates.Running);
        await servers.WaitHealthyAsync("postgres");

        Assert.Equal(42, await ScalarAsync<int>(postgres, "SELECT value FROM kept"));
        Assert.NotEqual(postmaster, int.Parse(File.ReadLines(Path.Combine(server.DataDirectory, "postmaster.pid")).First()));

        await servers.StopAsync("postgres", Ct);
        // A sleep: the check is that nothing restarts it, and a restart that does not happen sends no event. Had the
        // Stop counted as a crash it would be the second within a minute, restarted 2 s later (Restarts.cs), so 3 s.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.False(File.Exists(Path.Combine(server.DataDirectory, "postmaster.pid")));
    }

    [Fact]
    public void A_missing_server_binary_names_the_install_command()
    {
        var error = Assert.Throws<ServerNotInstalledException>(() => ServerBinaries.Require("/nonexistent/redis-server", "Redis"));

        Assert.Contains("apt-get install -y postgresql redis-server rabbitmq-server", error.Message);
    }

    private static void Declare(IDistributedApplicationBuilder builder)
    {
        builder.AddPostgresServer("postgres");
        builder.AddRedisServer("redis");
        builder.AddRabbitMQServer("rabbitmq");
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }
}
