"""One cog per feature: introduce, team, project, feedback."""
