"""What crosses the layers: jobs and results, the score row, a persona, the CV format, the errors.

Every layer (models, workers, bot, the command line) speaks in these types, and there is one copy of
each. The package is pure Python and pydantic: it imports neither torch nor discord.py, nor anything
else of ours, so the bot can use it without pulling in a model, and a model without pulling in Discord.

    implementor.contracts.errors       the exception tree, from ImplementorError down
    implementor.contracts.jobs         jobs (what the bot asks for) and results (what a worker answers), as JSON
    implementor.contracts.states       a job's states in the bot's book, and the stages its status message shows
    implementor.contracts.persona      who a colleague is, as the writer reads it: name, title, a few skills
    implementor.contracts.cv           the CV's sections: parsing, the skills list, rendering for people
    implementor.contracts.cv_facts     a CV's roles, degrees and stated years, and the rules that make them add up
    implementor.contracts.scores       the drafts' scores as a small table (--explain, "Why this reply?")
    implementor.contracts.text_safety  generated text never pings anyone
"""
