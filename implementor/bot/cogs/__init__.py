"""One cog per feature, one file each: introduce, team, project, feedback, learn, settings, help.

A cog is given what it uses (the store, the job runner, the result buttons) as keyword arguments by
`implementor.bot.app.wire`; none of them holds the bot.
"""
