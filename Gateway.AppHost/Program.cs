using Gateway.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres");
var redis = builder.AddRedis("redis");
var rabbitmq = builder.AddRabbitMQ("rabbitmq");
// The key the edge signs each forwarded caller with and the services check: generated once, kept in the data folder.
var callerKey = builder.AddParameter("caller-token-key", secret: true);
const string CallerKey = "Gateway__CallerToken__Key";

var identity = builder.AddProject("identity", "services/Identity/Gateway.Identity.csproj")
    .WithReference(postgres.AddDatabase("identitydb")).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq);

var keys = builder.AddProject("keys", "services/Keys/Gateway.Keys.csproj")
    .WithReference(postgres.AddDatabase("keysdb")).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq);

var billing = builder.AddProject("billing", "services/Billing/Gateway.Billing.csproj")
    .WithReference(postgres.AddDatabase("billingdb")).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq);

var chat = builder.AddProject("chat", "services/Chat/Gateway.Chat.csproj")
    .WithReference(postgres.AddDatabase("chatdb")).WithReference(redis).WithReference(rabbitmq).WithReference(billing)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq);

var devices = builder.AddProject("devices", "services/Devices/Gateway.Devices.csproj")
    .WithReference(postgres.AddDatabase("devicesdb")).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq).WaitFor(redis);

builder.AddProject("edge", "gateway/Yarp/Gateway.Edge.csproj")
    .WithReference(identity).WithReference(keys).WithReference(billing).WithReference(chat).WithReference(devices)
    .WithReference(redis).WithReference(rabbitmq).WithEnvironment(CallerKey, callerKey)
    .WithExternalHttpEndpoint(builder.Configuration["GATEWAY_EDGE_URL"] ?? "http://localhost:8080")
    .WaitFor(identity).WaitFor(keys).WaitFor(billing).WaitFor(chat).WaitFor(devices);

builder.Build().Run();
