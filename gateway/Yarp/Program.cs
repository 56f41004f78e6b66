using Gateway.Edge;
using Gateway.Edge.ApiReference;
using Gateway.Edge.Authentication;
using Gateway.Edge.Proxy;
using Gateway.Edge.RateLimiting;
using Gateway.Edge.Readiness;
using Gateway.Edge.WebConsole;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddEdgeServices();
builder.AddApiReference();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapDownstreamHealth();
app.UseCors();
app.UseConsole();
app.UseCallerAuthentication();
app.MapApiReference();
app.MapReverseProxy(proxy =>
{
    proxy.UseForwarderErrors();
    proxy.UseAsciiHeaders();
    proxy.UseBodyLimits();
    proxy.UseRateLimits();
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
