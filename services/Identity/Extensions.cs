using Gateway.Identity.Accounts;
using Gateway.Identity.Profile;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Invitations;
using Gateway.Identity.Mail;
using Gateway.Identity.OAuth;
using Gateway.Identity.Tokens;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

public static class Extensions
{
    private const long MaxRequestBody = 64 * 1024;

    public static IHostApplicationBuilder AddIdentityServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<AccountsDbContext>("identitydb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.AddOutbox<AccountsDbContext>();

        builder.Services.AddOptions<TokenIssuanceOptions>().BindConfiguration(TokenIssuanceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InvitationOptions>().BindConfiguration(InvitationOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // Passwords, lockout and the user store are ASP.NET Core Identity's (rules in Identity:Accounts).
        builder.Services.AddIdentityCore<User>(options =>
            {
                builder.Configuration.GetSection("Identity:Accounts").Bind(options);
                options.User.RequireUniqueEmail = true;
                options.User.AllowedUserNameCharacters = "";
                options.Lockout.AllowedForNewUsers = true;
            })
            .AddEntityFrameworkStores<AccountsDbContext>();

        builder.Services.AddSingleton<SigningKeyRing>();
        builder.Services.AddHostedService<SigningKeyRotation>();
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddScoped<Sessions>();
        builder.Services.AddSingleton<ExpiredSessionPurge>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ExpiredSessionPurge>());
        builder.AddCallerAuthentication();

        builder.Services.AddOptions<OAuthSignInOptions>().BindConfiguration(OAuthSignInOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // The token request spends a single-use code: never retried; reading the user is.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it replaces the defaults' handler.
        builder.Services.AddHttpClient<OAuthClient>()
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(resilience => resilience.Retry.DisableForUnsafeHttpMethods());

        // GET /api/user shows the caller's credits from Billing and their assistant from Chat: one short attempt each, no
        // retries; a profile without them beats a profile that waits on a service that is down.
        builder.Services.AddHttpClient<ProfileReads>(client => client.Timeout = ProfileReads.Timeout)
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        // Mail: through an SMTP server when Identity:Mail:Smtp:Host is set, else into files when Identity:Mail:Directory
        // is (a local run), else nowhere, said loudly. Never into the log: an invitation carries its token.
        builder.Services.AddScoped<InvitationMail>();
        builder.Services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        builder.Services.AddOptions<MailFolderOptions>().BindConfiguration(MailFolderOptions.Section);
        if (builder.Configuration.GetSection(SmtpOptions.Section).Get<SmtpOptions>() is { Enabled: true })
        {
            builder.Services.AddSingleton<IMailSender, SmtpMailSender>();
        }
        else if (builder.Configuration.GetSection(MailFolderOptions.Section).Get<MailFolderOptions>() is { Enabled: true })
        {
            builder.Services.AddSingleton<IMailSender, MailFolderSender>();
        }
        else
        {
            builder.Services.AddSingleton<IMailSender, UndeliverableMailSender>();
        }

        // Nothing this service accepts is large; refuse big bodies before reading them.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBody);
        return builder;
    }
}
