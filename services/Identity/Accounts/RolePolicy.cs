namespace Gateway.Identity.Accounts;

// Who may do what to whom inside an organisation. Members manage nobody; admins manage members and
// admins; owners manage everyone. The last owner is protected where roles change (see UsersApi).
public static class RolePolicy
{
    public static bool CanManageMembers(this User caller) => caller.Role >= Role.Admin;

    public static bool CanGrant(this User caller, Role role) => caller.Role >= Role.Admin && role <= caller.Role;

    public static bool CanManage(this User caller, Role subjectRole) => caller.Role >= Role.Admin && subjectRole <= caller.Role;
}
