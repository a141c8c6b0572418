# The Discord bot: slim, no torch, no models. It queues jobs on Redis and posts what the workers return.
# Build: docker build -f docker/bot.Dockerfile -t implementor-bot .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY contracts ./contracts
COPY config ./config
COPY models ./models
COPY workers ./workers
COPY learning ./learning
COPY bot ./bot
COPY implementor ./implementor
COPY bench ./bench
# --no-deps keeps torch and the model stack out; the bot's own needs are listed here instead.
RUN pip install --no-deps . \
 && pip install "discord.py>=2.4,<3" "aiosqlite>=0.20" "celery[redis]>=5.4,<6" "celery-batches>=0.9,<0.12" "redis>=5" \
                "pydantic>=2.6" "pydantic-settings>=2.2" "typer>=0.12" \
 && python -c "import bot.app, implementor.bot_commands, sys; assert 'torch' not in sys.modules"

# /data: the store; /learning: harvested sets (an opt-out deletes from them); /models: versions (read)
RUN useradd --create-home --uid 10001 implementor && mkdir /data /learning /models \
 && chown implementor /data /learning /models
USER implementor
ENV IMPLEMENTOR_BOT_STORE_PATH=/data/implementor.sqlite3 \
    IMPLEMENTOR_LEARNING_DIR=/learning
VOLUME ["/data"]
CMD ["implementor", "bot"]
