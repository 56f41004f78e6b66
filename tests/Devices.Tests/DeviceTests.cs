using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Devices.Tests;

public sealed class DeviceTests(DevicesSystem devices) : IClassFixture<DevicesSystem>
{
    [Fact]
    public async Task An_owner_registers_a_device_with_a_short_activation_code_and_it_is_listed_as_pending()
    {
        var owner = await devices.RegisterUserAsync();

        var registered = await owner.RegisterDeviceAsync("Front desk", ["Lobby", "floor-1"]);
        var listed = await owner.GetJsonAsync("/api/devices?status=pending");
        var health = await owner.GetJsonAsync("/api/organization/device-health");

        Assert.Matches("^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$", registered.ActivationCode);
        Assert.InRange(registered.ExpiresAt, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
        var device = Assert.Single(listed.GetProperty("data").EnumerateArray());
        Assert.Equal(registered.Id, device.GetProperty("id").GetGuid());
        Assert.Equal(["lobby", "floor-1"], device.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("pending", device.GetProperty("status").GetString());
        Assert.DoesNotContain("activationCode", device.GetRawText());
        Assert.Equal((1, 0, 0, 1), (health.GetProperty("total").GetInt32(), health.GetProperty("online").GetInt32(),
            health.GetProperty("offline").GetInt32(), health.GetProperty("pending").GetInt32()));
    }

    [Fact]
    public async Task Activation_codes_and_device_tokens_are_stored_only_as_hashes()
    {
        var owner = await devices.RegisterUserAsync();
        var registered = await owner.RegisterDeviceAsync();
        using var edge = devices.Edge();
        using var activation = await edge.ActivateAsync(registered.ActivationCode.ToLowerInvariant().Replace("-", " "));
        var token = (await activation.ShouldBe(HttpStatusCode.OK)).GetProperty("deviceToken").GetString()!;

        var row = "";
        await devices.InDatabaseAsync(async db => row = JsonSerializer.Serialize(await db.Devices.AsNoTracking().SingleAsync(d => d.Id == registered.Id, Api.Ct)));

        Assert.StartsWith("dvc_", token);
        Assert.DoesNotContain('.', token);
        // On a route for people, a device's token is named for what it is (it was told "Sign in first").
        using var asPerson = new HttpRequestMessage(HttpMethod.Get, "/api/devices");
        asPerson.Headers.Authorization = new("Bearer", token);
        using var refused = await edge.SendAsync(asPerson, Api.Ct);
        Assert.StartsWith("The credential in 'Authorization' is not a person's", (await refused.ShouldBeProblem(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
        // With nothing sent, the route says what it takes: a person's token, not an API key (it said "or an API key").
        using var nothing = await edge.GetAsync("/api/devices", Api.Ct);
        Assert.Equal("Sign in first: send an access token (Authorization: Bearer …); an API key cannot do this.",
            (await nothing.ShouldBeProblem(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
        // Anything else that is not shaped like a token is told it is not valid, not taken for a device's (the trial).
        using var garbage = new HttpRequestMessage(HttpMethod.Get, "/api/devices");
        garbage.Headers.TryAddWithoutValidation("Authorization", "Bearer garbage");
        using var invalid = await edge.SendAsync(garbage, Api.Ct);
        Assert.StartsWith("The credential in 'Authorization' is not valid: it is neither an access token nor an API key.",
            (await invalid.ShouldBeProblem(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString());
        Assert.DoesNotContain(registered.ActivationCode.Replace("-", ""), row);
        Assert.DoesNotContain(token, row);
    }

    [Fact]
    public async Task An_activation_code_works_once()
    {
        var owner = await devices.RegisterUserAsync();
        var registered = await owner.RegisterDeviceAsync();
        using var edge = devices.Edge();

        using var first = await edge.ActivateAsync(registered.ActivationCode);
        using var second = await edge.ActivateAsync(registered.ActivationCode);
        using var unknown = await edge.ActivateAsync("ABCDE-FGHJK");

        await first.ShouldBe(HttpStatusCode.OK);
        var used = await second.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "activationCode");
        var never = await unknown.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "activationCode");
        Assert.Equal(never, used);
    }

    [Fact]
    public async Task An_expired_activation_code_is_refused_like_an_unknown_one()
    {
        var owner = await devices.RegisterUserAsync();
        var registered = await owner.RegisterDeviceAsync();
        // A day later, as far as this code is concerned.
        await devices.InDatabaseAsync(db => db.Devices.Where(d => d.Id == registered.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.ActivationExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)), Api.Ct));
        using var edge = devices.Edge();

        using var expired = await edge.ActivateAsync(registered.ActivationCode);
        using var unknown = await edge.ActivateAsync("ABCDE-FGHJK");

        Assert.Equal(await unknown.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "activationCode"),
            await expired.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "activationCode"));
        var device = await owner.GetJsonAsync($"/api/devices/{registered.Id}");
        Assert.Equal("pending", device.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_device_limit_is_answered_in_words()
    {
        var owner = await devices.RegisterUserAsync();
        for (var i = 0; i < DevicesSystem.DeviceLimit; i++)
        {
            await owner.RegisterDeviceAsync($"Kiosk {i}");
        }

        using var refused = await owner.Client.PostAsJsonAsync("/api/devices/register", new { name = "One too many" }, Api.Ct);

        var problem = await refused.ShouldBe(HttpStatusCode.Conflict);
        Assert.StartsWith($"Device limit reached: {DevicesSystem.DeviceLimit} of {DevicesSystem.DeviceLimit}", problem.GetProperty("detail").GetString());
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Deleting_a_device_frees_its_place_under_the_limit()
    {
        var owner = await devices.RegisterUserAsync();
        var first = await owner.RegisterDeviceAsync("Kiosk 0");
        for (var i = 1; i < DevicesSystem.DeviceLimit; i++)
        {
            await owner.RegisterDeviceAsync($"Kiosk {i}");
        }

        using var delete = await owner.Client.DeleteAsync($"/api/devices/{first.Id}", Api.Ct);
        using var again = await owner.Client.PostAsJsonAsync("/api/devices/register", new { name = "Replacement" }, Api.Ct);

        await delete.ShouldBe(HttpStatusCode.NoContent);
        await again.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Concurrent_registrations_never_exceed_the_limit()
    {
        var owner = await devices.RegisterUserAsync();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            using var response = await owner.Client.PostAsJsonAsync("/api/devices/register", new { name = $"Kiosk {i}" }, Api.Ct);
            return response.StatusCode;
        }));

        Assert.Equal(DevicesSystem.DeviceLimit, attempts.Count(s => s == HttpStatusCode.Created));
        Assert.All(attempts.Where(s => s != HttpStatusCode.Created), s => Assert.Equal(HttpStatusCode.Conflict, s));
    }

    [Fact]
    public async Task A_member_reads_the_fleet_but_cannot_register_change_or_delete_devices()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterDeviceAsync();
        var member = await devices.InviteAsync(owner, "member");

        using var register = await member.Client.PostAsJsonAsync("/api/devices/register", new { name = "Sneaky" }, Api.Ct);
        using var rename = await member.Client.PatchAsJsonAsync($"/api/devices/{device.Id}", new { name = "Renamed" }, Api.Ct);
        using var delete = await member.Client.DeleteAsync($"/api/devices/{device.Id}", Api.Ct);
        var listed = await member.GetJsonAsync("/api/devices");

        await register.ShouldBe(HttpStatusCode.Forbidden);
        await rename.ShouldBe(HttpStatusCode.Forbidden);
        await delete.ShouldBe(HttpStatusCode.Forbidden);
        Assert.Equal(device.Id, Assert.Single(listed.GetProperty("data").EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task An_admin_registers_devices()
    {
        var owner = await devices.RegisterUserAsync();
        var admin = await devices.InviteAsync(owner, "admin");

        var device = await admin.RegisterDeviceAsync("Admin's kiosk");

        Assert.Equal("Admin's kiosk", (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Another_organisations_device_is_not_found()
    {
        var owner = await devices.RegisterUserAsync();
        var stranger = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);

        using var get = await stranger.Client.GetAsync($"/api/devices/{device.Id}", Api.Ct);
        using var patch = await stranger.Client.PatchAsJsonAsync($"/api/devices/{device.Id}", new { name = "Mine now" }, Api.Ct);
        using var delete = await stranger.Client.DeleteAsync($"/api/devices/{device.Id}", Api.Ct);
        var list = await stranger.GetJsonAsync("/api/devices");
        var health = await stranger.GetJsonAsync("/api/organization/device-health");

        await get.ShouldBe(HttpStatusCode.NotFound);
        await patch.ShouldBe(HttpStatusCode.NotFound);
        await delete.ShouldBe(HttpStatusCode.NotFound);
        Assert.Empty(list.GetProperty("data").EnumerateArray());
        Assert.Equal(0, health.GetProperty("total").GetInt32());
        Assert.Equal("Front desk", (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_device_credential_only_beats_for_its_own_device()
    {
        var owner = await devices.RegisterUserAsync();
        var mine = await owner.RegisterAndActivateAsync(devices, "Mine");
        var other = await owner.RegisterAndActivateAsync(devices, "Other");

        using var client = devices.DeviceClient(mine.Token);
        using var wrongDevice = await client.PostAsJsonAsync($"/api/devices/{other.Id}/heartbeat", new { }, Api.Ct);
        using var noCredential = await devices.Edge().PostAsJsonAsync($"/api/devices/{mine.Id}/heartbeat", new { }, Api.Ct);
        using var forged = await devices.HeartbeatAsync(mine with { Token = "dvc_" + new string('A', 43) });

        await wrongDevice.ShouldBe(HttpStatusCode.NotFound);
        await noCredential.ShouldBe(HttpStatusCode.Unauthorized);
        await forged.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_removed_devices_credential_is_refused()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);
        using var before = await devices.HeartbeatAsync(device);

        using var delete = await owner.Client.DeleteAsync($"/api/devices/{device.Id}", Api.Ct);
        using var after = await devices.HeartbeatAsync(device);
        using var get = await owner.Client.GetAsync($"/api/devices/{device.Id}", Api.Ct);

        await before.ShouldBe(HttpStatusCode.OK);
        await delete.ShouldBe(HttpStatusCode.NoContent);
        await after.ShouldBe(HttpStatusCode.Unauthorized);
        await get.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Devices_are_listed_by_status_and_label_a_page_at_a_time()
    {
        var owner = await devices.RegisterUserAsync();
        var online = await owner.RegisterAndActivateAsync(devices, "A online", ["lobby"]);
        await owner.RegisterDeviceAsync("B pending", ["lobby", "spare"]);
        await owner.RegisterDeviceAsync("C pending", ["kitchen"]);
        using var beat = await devices.HeartbeatAsync(online);
        await beat.ShouldBe(HttpStatusCode.OK);

        var lobby = await owner.GetJsonAsync("/api/devices?label=LOBBY");
        var pending = await owner.GetJsonAsync("/api/devices?status=pending");
        var onlineNow = await owner.GetJsonAsync("/api/devices?status=online");
        var page2 = await owner.GetJsonAsync("/api/devices?limit=2&offset=2");

        static string[] Names(JsonElement page) => [.. page.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("name").GetString()!)];
        Assert.Equal(["A online", "B pending"], Names(lobby));
        Assert.Equal(["B pending", "C pending"], Names(pending));
        Assert.Equal(["A online"], Names(onlineNow));
        Assert.Equal(["C pending"], Names(page2));
        Assert.Equal(3, page2.GetProperty("total").GetInt32());
        Assert.Equal(2, page2.GetProperty("offset").GetInt32());
    }

    [Fact]
    public async Task A_device_is_renamed_and_relabelled_and_shows_its_last_heartbeat()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);
        using var beat = await devices.HeartbeatAsync(device, new { version = "2.0.1", metrics = new { battery = 0.8 } });
        await beat.ShouldBe(HttpStatusCode.OK);

        using var patch = await owner.Client.PatchAsJsonAsync($"/api/devices/{device.Id}", new { name = "Back office", labels = new[] { "office" } }, Api.Ct);
        var read = await owner.GetJsonAsync($"/api/devices/{device.Id}");

        var patched = await patch.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("2.0.1", patched.GetProperty("version").GetString()); // PATCH answers what GET shows
        Assert.Equal("Back office", read.GetProperty("name").GetString());
        Assert.Equal(["office"], read.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("2.0.1", read.GetProperty("version").GetString());
        Assert.Equal(0.8, read.GetProperty("metrics").GetProperty("battery").GetDouble());
        Assert.Equal("online", read.GetProperty("status").GetString());
        Assert.InRange(read.GetProperty("lastSeenAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        // The list shows the same heartbeat.
        var listed = (await owner.GetJsonAsync("/api/devices")).GetProperty("data").EnumerateArray().Single(d => d.GetProperty("id").GetGuid() == device.Id);
        Assert.Equal("2.0.1", listed.GetProperty("version").GetString());
        Assert.Equal(0.8, listed.GetProperty("metrics").GetProperty("battery").GetDouble());

        // A bare heartbeat keeps the version and metrics last reported.
        using var client = devices.DeviceClient(device.Token);
        using var bare = await client.PostAsync($"/api/devices/{device.Id}/heartbeat", null, Api.Ct);
        await bare.ShouldBe(HttpStatusCode.OK);
        var afterBare = await owner.GetJsonAsync($"/api/devices/{device.Id}");
        Assert.Equal("2.0.1", afterBare.GetProperty("version").GetString());
        Assert.Equal(0.8, afterBare.GetProperty("metrics").GetProperty("battery").GetDouble());
        // So is a chunked body with nothing in it, with a JSON Content-Type or none (a 400 and a 415 before).
        foreach (var contentType in new[] { "application/json", null })
        {
            using var chunked = new HttpRequestMessage(HttpMethod.Post, $"/api/devices/{device.Id}/heartbeat") { Content = new StreamContent(new NoLengthStream()) };
            chunked.Headers.TransferEncodingChunked = true;
            if (contentType is not null) chunked.Content.Headers.ContentType = new(contentType);
            using var empty = await client.SendAsync(chunked, Api.Ct);
            await empty.ShouldBe(HttpStatusCode.OK);
        }
    }

    // An empty body whose length is not known beforehand, so it goes chunked.
    private sealed class NoLengthStream : MemoryStream
    {
        public override bool CanSeek => false;
    }

    // The device trial opened 300 live sockets with one person's token, every one accepted.
    [Fact]
    public async Task A_person_holds_a_bounded_number_of_live_sockets_and_closing_one_lets_another_in()
    {
        var owner = await devices.RegisterUserAsync();
        var open = new List<LiveSocket>();
        for (var i = 0; i < DevicesSystem.MaxSocketsPerUser; i++)
        {
            open.Add(await LiveSocket.ConnectAsync(devices.System.Edge, owner));
        }

        using var more = new System.Net.WebSockets.ClientWebSocket();
        more.Options.CollectHttpResponseDetails = true;
        more.Options.SetRequestHeader("Authorization", $"Bearer {owner.AccessToken}");
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => more.ConnectAsync(LiveSocket.Url(devices.System.Edge.Address, null), Api.Ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, more.HttpStatusCode);

        await open[0].DisposeAsync();
        await using var another = await Eventually.UntilAsync(async () =>
        {
            try
            {
                return await LiveSocket.ConnectAsync(devices.System.Edge, owner);
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                return null;
            }
        }, s => s is not null);
        foreach (var socket in open.Skip(1))
        {
            await socket.DisposeAsync();
        }
    }

    // The device trial: text a fleet's lists show, and what the list and the live channel were sent twice.
    [Fact]
    public async Task What_the_fleet_shows_is_readable_and_a_parameter_sent_twice_is_named()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);

        // A version is shown as a name is, so it has a name's rule; a name of invisible characters alone is no name.
        using var forged = await devices.HeartbeatAsync(device, new { version = "1.0\n\u202e<script>" });
        Assert.Equal("A version cannot contain control characters.", await forged.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "version"));
        using var invisible = await owner.Client.PostAsJsonAsync("/api/devices/register", new { name = "\u200b\u200b" }, Api.Ct);
        Assert.Equal("A name is required.", await invisible.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "name"));
        // A metric name quoted back is cut before an emoji, never through it.
        using var longName = await devices.HeartbeatAsync(device, new Dictionary<string, object>
        {
            ["metrics"] = new Dictionary<string, double> { [new string('a', 18) + "😀" + new string('b', 70)] = 1 },
        });
        Assert.Equal($"A metric name has 1 to 64 characters; '{new string('a', 18)}…' does not.", await longName.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "metrics"));

        using var twice = await owner.Client.GetAsync("/api/devices?status=online&status=offline", Api.Ct);
        Assert.Equal("'status' was sent 2 times; send it once.", await twice.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "status"));
        // At the edge too: two access tokens on the live channel were told "Sign in first".
        using var edge = devices.Edge();
        using var twoTokens = await edge.GetAsync($"/api/events?access_token={owner.AccessToken}&access_token=x", Api.Ct);
        Assert.Equal("'access_token' was sent 2 times; send it once.", await twoTokens.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "access_token"));
    }

    [Theory]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":"Kiosk","labels":["has space"]}""", "labels")]
    [InlineData("""{"name":"Kiosk","labels":["a","b","c","d","e","f","g","h","i","j","k"]}""", "labels")]
    [InlineData("""{"name":"Kiosk","labels":"lobby"}""", "labels")]
    [InlineData("""{"name":12}""", "name")]
    public async Task A_bad_registration_names_the_field(string body, string field)
    {
        var owner = await devices.RegisterUserAsync();

        using var response = await owner.Client.PostAsync("/api/devices/register", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Api.Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("/api/devices?status=sleeping", "status")]
    [InlineData("/api/devices?label=%20", "label")]
    [InlineData("/api/devices?label=", "label")]
    [InlineData("/api/devices?offset=-1", "offset")]
    [InlineData("/api/devices?limit=1000", "limit")]
    [InlineData("/api/devices?offset=abc", "offset")]
    [InlineData("/api/customer-sessions?status=maybe", "status")]
    [InlineData("/api/events?lastEventId=yesterday", "lastEventId")]
    [InlineData("/api/events", "upgrade")]
    [InlineData("/api/devices/abc", "id")]
    [InlineData("/api/customer-sessions/abc", "id")]
    public async Task A_bad_query_names_the_parameter(string url, string field)
    {
        var owner = await devices.RegisterUserAsync();

        using var response = await owner.Client.GetAsync(url, Api.Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("""{"activationCode":null}""", "activationCode")]
    [InlineData("""{"activationCode":"not a code at all, far too long for one"}""", "activationCode")]
    [InlineData("""{"activationCode":42}""", "activationCode")]
    public async Task A_bad_activation_names_the_field(string body, string field)
    {
        using var edge = devices.Edge();

        using var response = await edge.PostAsync("/api/devices/activate", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Api.Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [InlineData("""{"version":"1.0","metrics":{"cpu":"high"}}""", "metrics.cpu")]
    [InlineData("""{"version":"1111111111111111111111111111111111111111111111111111111111111111111111"}""", "version")]
    [InlineData("""{"metrics":{"":1}}""", "metrics")]
    [InlineData("""{"metrics":{"cpu":1e999}}""", "metrics.cpu")]
    [InlineData("""not json""", "body")]
    public async Task A_bad_heartbeat_names_the_field(string body, string field)
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);
        using var client = devices.DeviceClient(device.Token);

        using var response = await client.PostAsync($"/api/devices/{device.Id}/heartbeat", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Api.Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task A_heartbeat_value_of_the_wrong_kind_says_what_it_must_be()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);
        using var client = devices.DeviceClient(device.Token);

        using var text = await client.PostAsync($"/api/devices/{device.Id}/heartbeat", new StringContent("""{"metrics":{"cpu":"high"}}""", System.Text.Encoding.UTF8, "application/json"), Api.Ct);
        Assert.Equal("The field 'metrics.cpu' must be a number.", await text.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "metrics.cpu"));
        using var list = await client.PostAsync($"/api/devices/{device.Id}/heartbeat", new StringContent("""{"metrics":[1]}""", System.Text.Encoding.UTF8, "application/json"), Api.Ct);
        Assert.Equal("The field 'metrics' must be an object.", await list.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "metrics"));
    }

    [Fact]
    public async Task A_heartbeat_that_is_not_JSON_is_a_415_naming_the_content_type()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);
        using var client = devices.DeviceClient(device.Token);

        using var response = await client.PostAsync($"/api/devices/{device.Id}/heartbeat", new StringContent("hello", System.Text.Encoding.UTF8, "text/plain"), Api.Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.UnsupportedMediaType, "Content-Type");
    }
}
