"""The writer's prompts: control tokens, and how a CV or a reply is asked for and written out.

One format serves training, generation and evaluation:

    <|cv|><|name|> Ada Lovelace<|title|> Data Scientist<|body|>## Profile ... <|endoftext|>
    <|persona|> Ada Lovelace, Data Scientist; manage data; interpret statistical data<|request|> Hi all,
        we need someone to ...<|reply|> As a data scientist I have done this before ... <|endoftext|>

The reply prompt carries the colleague who answers, so that the reply speaks from that colleague's
experience: the control format names them with a few skills; the instruct format (the bundled writer's)
gives their whole CV's facts (`Persona.facts`: profile, skills, roles with employers and years,
education). A follow-up's prompt carries the conversation before it (`contracts.jobs.Turn`), each earlier
request and answer as its own turn:

    <|persona|> ...<|request|> first request<|reply|> first answer<|request|> follow-up<|reply|>

and, for the instruct format, as the chat's own user and assistant turns. Which turns fit the
writer's context is `conversation.py`'s to decide (the oldest go first). A pair without a persona (an
operator's own data, or a writer trained before personas existed) is written without the `<|persona|>` part.

(The space after a control token lets the first word use the same BPE token as anywhere else.)
The CV body's own format (its four sections) is `contracts.cv`; the records are `contracts.records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from implementor.contracts.jobs import Turn
from implementor.contracts.persona import PERSONA_SKILLS, Persona
from implementor.contracts.records import CVRecord, Record
from implementor.models.writer.trades import TradeBook

CV, NAME, TITLE, BODY = "<|cv|>", "<|name|>", "<|title|>", "<|body|>"
REQUEST, REPLY, PERSONA = "<|request|>", "<|reply|>", "<|persona|>"
EOS = "<|endoftext|>"
CONTROL_TOKENS = (CV, NAME, TITLE, BODY, REQUEST, REPLY)
# Writers trained since personas exist know this one too; older ones are prompted without it.
PERSONA_TOKENS = (PERSONA,)


def cv_prompt(name: str, title: str) -> str:
    return f"{CV}{NAME} {name.strip()}{TITLE} {title.strip()}{BODY}"


def reply_prompt(request: str, persona: Persona | None = None, history: Sequence[Turn] = ()) -> str:
    who = f"{PERSONA} {persona.line()}" if persona is not None else ""
    earlier = "".join(f"{REQUEST if t.role == 'member' else REPLY} {t.text.strip()}" for t in history)
    return f"{who}{earlier}{REQUEST} {request.strip()}{REPLY}"


def judge_prompt_cv(name: str, title: str) -> str:
    """What the BERT heads read as the prompt of a CV (they never see control tokens)."""
    return f"{' '.join(name.split())}, {' '.join(title.split())}"


def prompt_of(record: Record) -> str:
    if isinstance(record, CVRecord):
        return cv_prompt(record.name, record.title)
    return reply_prompt(record.request, record.persona, record.history)


def completion_of(record: Record) -> str:
    return record.body if isinstance(record, CVRecord) else " " + record.reply


def training_text(record: Record) -> str:
    """The whole example as the language model sees it, end token included."""
    return prompt_of(record) + completion_of(record) + EOS


class ControlFormat:
    """The control-token format above: for writers trained from scratch, or GPT-2s that learnt our tokens."""

    name = "control"
    end = EOS
    keep_head = 1  # a prompt cut to fit the context keeps its task token

    def __init__(self, persona: bool = True) -> None:
        self.persona = persona  # writers trained before personas existed are prompted without one

    def cv(self, name: str, title: str) -> str:
        return cv_prompt(name, title)

    def reply(self, request: str, persona: Persona | None = None, history: Sequence[Turn] = ()) -> str:
        return reply_prompt(request, persona if self.persona else None, history)

    def completion(self, record: Record) -> str:
        return completion_of(record)


REPLY_ASK = "Reply to them from your own experience, naming only the employers, places and years in your CV."


def who_you_are(persona: Persona | None) -> str:
    """The colleague a reply prompt speaks as: their whole CV's facts (`Persona.facts`), or, for a persona
    from before CVs travelled with jobs, its name, title and a few skills."""
    if persona is None:
        return ""
    who = f"You are {' '.join(persona.name.split())}, {' '.join(persona.title.split())}"
    if persona.roles:
        return f"{who}. Your CV:\n{persona.facts()}\n"
    skills = ", ".join(" ".join(s.split()) for s in persona.skills[:PERSONA_SKILLS])
    return who + (f"; your skills include {skills}. " if skills else ". ")


SYSTEM = "You are a colleague at a company. You write in plain, specific English about your own work."
PLAIN_TEMPLATE = "### Instruction\n{instruction}\n### Response\n"


class InstructFormat:
    """Plain instructions, for pretrained bases: no new tokens, so only an adapter need ship.

    A base with a chat template (SmolLM2) reads them in its own chat format, and its end-of-turn
    token ends a draft; one without (GPT-2) reads `PLAIN_TEMPLATE` and ends at its end-of-text token.
    With a trade book (`trades.py`), a CV prompt for a title the book holds carries that trade's facts.
    """

    name = "instruct"

    def __init__(self, tokenizer: Any, trades: TradeBook | None = None) -> None:
        self.tokenizer = tokenizer
        self.trades = trades
        self.chat = bool(getattr(tokenizer, "chat_template", None))
        self.end = str(tokenizer.eos_token)
        # A prompt cut to fit the context keeps everything before the instruction's own text.
        a, b = (tokenizer(self._wrap(x))["input_ids"] for x in "ab")
        self.keep_head = next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)

    def _wrap(self, instruction: str, turns: Sequence[Turn] = (), request: str | None = None) -> str:
        """The instruction as the first user turn, then the earlier turns and the newest request, if any."""
        if not self.chat:  # no chat format: the conversation is told inside the one instruction
            told = "".join(f"\n{'They' if t.role == 'member' else 'You'} wrote:\n{t.text.strip()}" for t in turns)
            last = f"\nThey now write:\n{request.strip()}\nAnswer them." if request is not None else ""
            return PLAIN_TEMPLATE.format(instruction=instruction + told + last)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": instruction}]
        messages += [{"role": "user" if t.role == "member" else "assistant", "content": t.text.strip()}
                     for t in turns]
        if request is not None:
            messages.append({"role": "user", "content": request.strip()})
        return str(self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    def cv(self, name: str, title: str) -> str:
        trade = self.trades.get(title) if self.trades is not None else None
        facts = f"\n{trade.brief()}\n" if trade is not None else " "
        return self._wrap(f"Write your CV. You are {' '.join(name.split())}, {' '.join(title.split())}.{facts}"
                          "Use the sections Profile, Skills, Experience and Education.")

    def reply(self, request: str, persona: Persona | None = None, history: Sequence[Turn] = ()) -> str:
        """The reply prompt; a follow-up's first request opens the chat, and each later turn is a turn of it."""
        first = history[0].text if history else request
        ask = REPLY_ASK if persona is not None and persona.roles else "Reply to them."
        instruction = f"{who_you_are(persona)}A colleague posts this project request:\n{first.strip()}\n{ask}"
        return self._wrap(instruction, history[1:], request) if history else self._wrap(instruction)

    def completion(self, record: Record) -> str:
        return record.body if isinstance(record, CVRecord) else record.reply


PromptFormat = ControlFormat | InstructFormat


def format_prompt(fmt: PromptFormat, record: Record) -> str:
    if isinstance(record, CVRecord):
        return fmt.cv(record.name, record.title)
    return fmt.reply(record.request, record.persona, record.history)


def format_training_text(fmt: PromptFormat, record: Record) -> str:
    """The whole example in a format, its end token included."""
    return format_prompt(fmt, record) + fmt.completion(record) + fmt.end
