"""The discord.py bot: one cog per feature; it queues jobs and never imports torch (issue "The Discord bot")."""
