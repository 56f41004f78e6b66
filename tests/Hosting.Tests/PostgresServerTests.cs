using Gateway.Hosting.Processes;
using Gateway.Hosting.Servers;
using Npgsql;

namespace Gateway.Hosting.Tests;

public class PostgresServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_keeps_its_data_across_a_restart_and_leaves_no_process()
    {
        using var folder = new TempFolder();
        var options = new PostgresServerOptions(folder.Sub("postgres"));

        var first = await PostgresServer.StartAsync(options, new TestLogger(), Ct);
        Assert.Equal(1, await ScalarAsync<int>(first, "SELECT 1"));
        await ExecuteAsync(first, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('survives')");
        var firstProcesses = Processes.Of(first.Process);
        await first.DisposeAsync();
        Processes.AssertAllGone(firstProcesses);

        var second = await PostgresServer.StartAsync(options, new TestLogger(), Ct);
        Assert.Equal("survives", await ScalarAsync<string>(second, "SELECT value FROM kept"));
        var secondProcesses = Processes.Of(second.Process);
        await second.DisposeAsync();
        Processes.AssertAllGone(secondProcesses);
    }

    [Fact]
    public async Task Listens_on_loopback_only_and_keeps_its_password_private()
    {
        using var folder = new TempFolder();
        await using var server = await PostgresServer.StartAsync(new PostgresServerOptions(folder.Sub("pg")), new TestLogger(), Ct);

        Assert.Equal("127.0.0.1", await ScalarAsync<string>(server, "SHOW listen_addresses"));
        Assert.Equal("", await ScalarAsync<string>(server, "SHOW unix_socket_directories"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(folder.Sub("pg.password")));
        var wrong = new NpgsqlConnectionStringBuilder(server.ConnectionString("postgres")) { Password = "wrong", Pooling = false };
        await using var refused = new NpgsqlConnection(wrong.ConnectionString);
        await Assert.ThrowsAsync<PostgresException>(() => refused.OpenAsync(Ct));
    }

    [Fact]
    public async Task Starts_again_after_its_postmaster_was_SIGKILLed()
    {
        using var folder = new TempFolder();
        var options = new PostgresServerOptions(folder.Sub("pg"));
        var first = await PostgresServer.StartAsync(options, new TestLogger(), Ct);
        await ExecuteAsync(first, "CREATE TABLE kept (value int); INSERT INTO kept VALUES (42)");
        var processes = Processes.Of(first.Process);
        Signals.Send(first.Process.Id, Signals.SIGKILL);
        await first.Process.Exited.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(File.Exists(Path.Combine(options.DataDirectory, "postmaster.pid")));
        await first.DisposeAsync();
        // Postgres's backends are their own session leaders; they end by themselves when their postmaster is gone.
        await Processes.AssertAllGoneWithinAsync(processes, TimeSpan.FromSeconds(5));

        await using var second = await PostgresServer.StartAsync(options, new TestLogger(), Ct);

        Assert.Equal(42, await ScalarAsync<int>(second, "SELECT value FROM kept"));
    }

    [Fact]
    public async Task A_data_folder_the_postgres_user_cannot_enter_fails_with_what_to_do()
    {
        Assert.SkipUnless(Signals.IsRoot, "only root switches to the postgres user");
        using var folder = new TempFolder();
        var closed = folder.Sub("closed");
        Directory.CreateDirectory(closed);
        File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var error = await Assert.ThrowsAsync<ServerStartException>(() =>
            PostgresServer.StartAsync(new PostgresServerOptions(Path.Combine(closed, "data", "postgres")), new TestLogger(), Ct));

        Assert.Contains(closed, error.Message);
        Assert.Contains("GATEWAY_DATA=/var/tmp", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_missing_server_binary_names_the_install_command()
    {
        var error = Assert.Throws<ServerNotInstalledException>(() => ServerBinaries.Require("/nonexistent/redis-server", "Redis"));

        Assert.Contains("apt-get install -y postgresql redis-server rabbitmq-server", error.Message);
    }

    internal static async Task<T> ScalarAsync<T>(PostgresServer server, string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }

    private static async Task ExecuteAsync(PostgresServer server, string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
