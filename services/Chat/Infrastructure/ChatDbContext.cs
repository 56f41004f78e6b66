using Microsoft.EntityFrameworkCore;

namespace Gateway.Chat.Infrastructure;

public sealed class ChatDbContext(DbContextOptions<ChatDbContext> options) : DbContext(options)
{
}
