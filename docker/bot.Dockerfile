# The Discord bot: slim, no torch, no models. It queues jobs on Redis and posts what the workers return.
# Build: docker build -f docker/bot.Dockerfile -t implementor-bot .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The bot's own lock (requirements/bot.txt: no torch), every package pinned and nothing added by pip.
COPY requirements/bot.txt ./requirements/bot.txt
RUN pip install --no-deps -r requirements/bot.txt
COPY pyproject.toml README.md LICENSE ./
COPY implementor ./implementor
# --no-deps keeps torch and the model stack out; the bot's own needs came from its lock.
RUN pip install --no-deps --no-build-isolation . \
 && python -c "import implementor.bot.app, implementor.cli.bot_commands, sys; assert 'torch' not in sys.modules"

# /data: the store; /learning: harvested sets (an opt-out deletes from them); /models: versions (read)
RUN useradd --create-home --uid 10001 implementor && mkdir /data /learning /models \
 && chown implementor /data /learning /models
USER implementor
ENV IMPLEMENTOR_BOT_STORE_PATH=/data/implementor.sqlite3 \
    IMPLEMENTOR_LEARNING_DIR=/learning
VOLUME ["/data"]
CMD ["implementor", "bot"]
