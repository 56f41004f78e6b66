using System.Text.Json.Serialization;
using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Organizations;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Identity.Apis;

// The caller's organisation (seed 001): its summary card and its contact details.
public static class OrganizationApi
{
    public static IEndpointRouteBuilder MapOrganizationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/organization").WithTags("Organization").RequireAuthorization(CallerAuthentication.UserPolicy);

        api.MapGet("/profile", GetProfile).WithSummary("Your organisation's summary and contact details.");
        api.MapPatch("/profile", UpdateProfile).WithSummary("Changes your organisation's contact details.");

        return app;
    }

    public sealed record OrganizationResponse(Guid Id, string Name, string? ContactEmail, string? Website, int MemberCount, DateTimeOffset CreatedAt);
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt member would change nothing
    public sealed record UpdateOrganizationRequest(string? Name, string? ContactEmail, string? Website);

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> GetProfile(
        HttpContext context, AccountsDbContext db, CancellationToken cancellationToken)
    {
        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        var organization = await db.Organizations.SingleAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        return TypedResults.Ok(await DescribeAsync(db, organization, cancellationToken));
    }

    public static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> UpdateProfile(
        UpdateOrganizationRequest request, HttpContext context, AccountsDbContext db, CancellationToken cancellationToken)
    {
        var contactEmail = AccountRules.Normalize(request.ContactEmail);
        var errors = new Dictionary<string, string[]>();
        if (!AccountRules.Check(errors,
                ("name", AccountRules.Name(request.Name)),
                ("contactEmail", contactEmail is null or "" ? null : AccountRules.Email(contactEmail)),
                ("website", request.Website is null or "" ? null : Website(request.Website))))
        {
            return ApiProblems.Invalid(errors);
        }

        if (await db.FindCallerAsync(context.User, cancellationToken) is not { } caller)
        {
            return ApiProblems.Unauthorized("This account no longer exists.");
        }
        if (!caller.CanManageMembers())
        {
            return ApiProblems.Forbidden("Only owners and admins can change the organisation's profile.");
        }

        var organization = await db.Organizations.SingleAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        if (request.Name is not null) organization.Name = request.Name.Trim();
        if (contactEmail is not null) organization.ContactEmail = contactEmail is "" ? null : contactEmail;
        if (request.Website is not null) organization.Website = request.Website is "" ? null : request.Website;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await DescribeAsync(db, organization, cancellationToken));
    }

    private static string? Website(string website) =>
        website.Length <= 200 && Uri.TryCreate(website, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? null
            : "The website must be an http or https address of at most 200 characters.";

    private static async Task<OrganizationResponse> DescribeAsync(AccountsDbContext db, Organization organization, CancellationToken cancellationToken)
    {
        var members = await db.Users.CountAsync(u => u.OrganizationId == organization.Id, cancellationToken);
        return new OrganizationResponse(organization.Id, organization.Name, organization.ContactEmail, organization.Website, members, organization.CreatedAt);
    }
}
