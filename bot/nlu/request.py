"""Find the request in a message: staff often write a sentence or two of context before they ask.

The whole message is parsed, and so is each of its sentences and clauses. A
part wins over the whole only when the parser is clearly surer of it and it
asks for something (not a greeting or a thank-you); its intent then stands
for the message, while the entities of the whole (a system named in the
context) are kept. When some parts ask (a question mark, "can someone", "is there"),
only those may win: the rest is context. Skills still get the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.core.parse import Entity, IntentScore, Parser, ParseResult, read_first

__all__ = ["CUES", "asks_a_question", "asks_about_others", "asks_after_earlier", "asks_desk_to_act", "asks_for_person",
           "asks_how", "asks_how_it_stands", "parse_request", "request_parts", "tells_approval"]

NOT_A_REQUEST = frozenset({"out_of_scope", "greet", "thanks", "goodbye", "affirm", "deny", "help"})
"""Intents that say nothing about what the person needs ("help" asks what the bot can do: as a part of a longer
message, "what do i do with this" asks about the rest of the message)."""
MIN_WORDS = 3
MAX_PARTS = 8
GAIN = 0.08
"""How much surer the parser must be of a part than of the whole message for the part to win."""
ASKING_BONUS = 0.04
"""A part that asks (a question mark, "how do i", "can someone") is preferred a little."""
REFUSE_OVER = 0.8
"""A reading the person may not ask for (an announcement from someone who is not a technician, the helpdesk's figures
from someone who is not a manager) stands, to be refused, only when the parser is surer than this ("announce email
maintenance saturday"); below, the message is read without it ("i want to send a note to everyone in billing about
the new printer codes", 0.55: a way on from the next reading, not a refusal)."""
AMONG_FLOOR = 0.08
"""How sure of a part's reading the whole message must be, among its top three, for the part to stand for it: "i need
someone to look at it on your end" alone reads as a wish for a person (0.92), the whole report around it only 0.03."""
CUE_LIFT = 0.3
"""How much surer a reading becomes when the text carries its cue (see ``CUES``): a part read as an outage question
that asks whether others have it too ("anybody else seeing this") is the question the message asks, over the symptom
told beside it ("munis wont open the timesheet screen")."""

_PERSONISH = re.compile(
    r"\b(?:human|person|people|some(?:one|body)|any(?:one|body)|tech(?:nician)?s?|you|u|guys?|folks?|staff|"
    r"(?<![-\w])call|phone|ring|rang|rings|ringing|cell|mobile|extension|number|visit|come|stop|talk|speak|chat|explain|voice|"
    r"show|bot)\b", re.IGNORECASE)

CUE_AMONG = 4
"""How far down the whole message's readings a cued reading may be: a request made earlier is often told with the
problem it was about, so the problem reads first ("put something in last thursday about the plotter ... where does
that stand": the question about one's tickets comes fourth, at 0.10)."""

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+-{1,2}\s+")
_CLAUSE = re.compile(r",\s*(?:but|so|and now|now|and)\s+|\s+(?:but|so)\s+(?=\w+\s+\w+)|"
                     r",\s*(?=(?:can|could|would|will) (?:you|u|someone|somebody|one of you)\b"
                     r"(?![^,.?!]*\b(?:it|this|that|them)\s*(?:[,.?!]|$)))", re.IGNORECASE)
"""Where a sentence splits into clauses: at "but", "so", "and now", and before ", can you ..." when that clause names
what to act on ("..., can you just unlock me"; "..., can you fix it" only points back at the rest)."""
_ASKING = re.compile(
    r"\?|\b(?:how (?:do|can|would|should)|can (?:you|someone|somebody|i)|could (?:you|someone|somebody)|"
    r"is (?:there|it|anyone)|does anyone|anybody|what do i|where do i|who do i|need (?:help|someone))\b",
    re.IGNORECASE,
)

_OTHERS = re.compile(
    r"\b(?:any ?(?:one|body)|some ?(?:one|body)|others?|people) (?:else|too|as well)\b|"
    r"\bevery ?(?:one|body) (?:too|as well)\b|"
    r"\bis it (?:just )?(?:my|our) (?:computer|pc|laptop|tablet|ipad|phone|device|end|machine)\b|"
    r"\bis (?:it|this|that) (?:just )?every ?(?:one|body)\b|"
    r"(?:\band|,) (?:so|neither|nor) (?:has|have|does|do|did|is|are|was|can) (?:the (?:person|guy|lady|gal|woman|man|"
    r"one|rest|whole|other)|my (?:co-?workers?|neighbou?rs?|partners?|boss|supervisor|desk ?mates?|team)|"
    r"every(?:one|body)|\w+'s\b|\w+ (?:next to|across|beside|in|at|on) )|"
    r"\b(?:has|sees|seeing) the (?:exact |very )?same (?:thing|problem|issue|error)\b|"
    r"\b(?:system|city|building|department|office)[ -]?wide\b|"
    r"\ball (?:the|our|of the|of our) (?:\w+ ){0,2}(?:phones|computers|pcs|printers|screens|monitors|laptops|"
    r"terminals|registers)\b[^.?!]*\b(?:at once|same time|all at once)\b|"
    r"\b(?:something|anything) (?:going on |wrong )?(?:on|at) (?:your|you guys'?|the city'?s?) (?:side|end)\b",
    re.IGNORECASE,
)
"""Asking whether others have it too: "anybody else", "is it just my pc", "and so has the person next to me",
"ray has the exact same thing", "system wide?", "all the desk phones on the 3rd floor went dark at once"."""
_APPROVED = re.compile(
    r"(?:\b(?:supervisor|manager|director|boss|chief|captain|sergeant|lieutenant|lead|head)\b|"
    r"\b(?:lt|sgt|capt|cmdr)\.)[^.?!]{0,40}?"
    r"\b(?:ok'?d|okayed|okd|approved|signed off|said (?:yes|ok|okay|its fine|it'?s fine)|can confirm)\b|"
    r"\b(?:got|have|has) the (?:ok|okay|go ahead|go-ahead|green light|approval|sign off|sign-off) from\b|"
    r"\bapproved (?:a|the|my) (?:license|licence|request|purchase|access)\b|"
    r"\bi (?:approve|have approved|authorize|have authorized) (?:the|this|his|her|their) (?:access|request|purchase)\b",
    re.IGNORECASE)
"""Telling that a supervisor approved what is asked for ("got the ok from my supervisor for bluebeam", "my supervisor
ok'd it and can confirm"): a request for IT to grant it."""
_ONLY_MINE = re.compile(
    r"\b(?:every(?:one|body) else|the others|the rest of (?:us|the \w+)|every other \w+)(?: \w+){0,4} "
    r"(?:is|are|seems?) (?:fine|ok|okay|working|good)\b|\b(?:its|it'?s|it is) only (?:my|mine|me)\b|"
    r"\bonly (?:my|mine) (?:is|does)\b",
    re.IGNORECASE)
"""Telling that only their own machine has it, the others are fine: "everyone else on the floor is fine, its only my
station" asks nothing about an outage."""
_EARLIER = re.compile(
    r"\b(?:put|sent|submitted|opened|filed|logged|entered|made|called|emailed|reported)(?: in| out)? "
    r"(?:a |an |the |my |our )?(?:ticket|request|work order|call|report|it|this|that)\b|"
    r"\b(?:called|emailed|wrote|messaged) (?:in |you )?about\b|\b(?:put|sent|turned) (?:something|one) in\b|"
    r"\bput in (?:something|one)\b",
    re.IGNORECASE)
_WAITING = re.compile(
    r"\b(?:ha(?:ve|s)n'?t heard|havent heard|not heard|never heard|heard nothing|no (?:word|update|news|reply|answer|"
    r"response)|any (?:news|update|word)|still (?:waiting|no|nothing)|nothing yet|(?:nobody|no one|no-one) (?:has )?"
    r"(?:came|come|called|contacted|gotten back|got back|replied|responded|shown up|showed up))\b|\bnothing since\b|"
    r"\bwhere (?:does|do|did) (?:that|it|this|things) (?:stand|end up)\b|\bwhere is (?:that|it) at\b|"
    r"\b(?:nobody|no one|no-one) has been (?:out|by|over)\b|"
    r"\b(?:has|did|have) (?:any|some)(?:one|body) (?:picked|pick|looked|look|gotten|got) (?:that|it|this) "
    r"(?:up|at|to)\b|"
    r"\b(?:ha(?:ve|s)n'?t|have not|has not|never) (?:gotten|got|received|had) (?:anything|a thing|a word)\b|"
    r"\b(?:had|has had|have had|gotten|got) a chance to (?:look|check|get to|see)\b",
    re.IGNORECASE)
"""Telling of a request made earlier and still waiting: "put in a ticket last week ... havent heard a thing"."""
_PERSON = re.compile(
    r"\b(?:some|any)(?:one|body|1)(?: from (?:it|the it \w+|your (?:team|office|side|shop)|the help ?desk|tech "
    r"support))?(?: (?:could|can|would|to|just))?(?: (?:physically|actually|quickly))? "
    r"(?:come|swing|stop|drop|pop|walk|run) "
    r"(?:by|over|up|down|out|in|and|take|have|look|see|check)\b|\bcome (?:take|have) a look\b|"
    r"\b(?:a|one of your|your|an it) (?:tech|technician|person|guy)s? (?:could |can |would |to |might )?"
    r"(?:come|stop|swing|drop|pop|run) (?:by|over|in|up|down)\b|"
    r"\b(?:wouldn'?t|would not|dont|don'?t) (?:even )?know where to (?:begin|start) (?:describing|explaining)\b|"
    r"\b(?:i'?d|i would|id|would) (?:much |honestly |really |just )?rather (?:just )?(?:have |get )?"
    r"(?:some(?:one|body)|a (?:person|human|tech|real)|talk|speak|call|go over|walk|sit|show)\b|"
    r"\b(?:sit|go through (?:it|this)|go over (?:it|this)) with me\b|"
    r"\b(?:some(?:one|body)|a (?:person|tech)) (?:here |right here )?(?:beside|next to) me\b|"
    r"(?<!was )(?<!were )(?<!be )(?<!that )(?<!really )(?<!actually )"  # "was that really one of you guys" asks who
    r"\bone of (?:your|the|you) (?:people|techs?|technicians|guys|folks|staff)\b|\b(?:work on|look at) it with me\b|"
    r"\b(?:if|when|whenever) (?:any|some)(?:one|body) has (?:a (?:few|couple|sec|second|minute)|five|ten|5|10|a) ?"
    r"(?:minutes?|mins?|secs?)?\b|"
    r"\b(?:easier|quicker|faster|simpler) (?:to|if (?:i|we|someone|somebody)) (?:just |could |can )?"
    r"(?:explain|show|talk|call|walk)|"
    r"\b(?:easier|quicker|faster|simpler|better) if (?:some(?:one|body)|a tech|one of you) (?:just |could |would )?"
    r"(?:(?:came|come|stopped|swung|popped|walked) (?:by|over|up|down|out)|looked at (?:it|this|my|our|both|the))\b|"
    r"\btyping (?:on )?(?:this|it|that)(?: \w+)? is (?:killing me|a pain|too slow)\b|"
    r"\b(?:take|takes|taking) (?:me )?(?:\w+ ){0,2}(?:messages|forever|ages|too long) to (?:explain|type|write)|"
    r"\bthan (?:type|typing|write|writing|explain|explaining) (?:it|this|all)\b|"
    r"\b(?:longer|more) to (?:type|write|explain) than\b|"
    r"\bi'?(?:ll| will) (?:walk|talk) (?:you|u|them|whoever|who ?ever) (?:thru|through)\b|"
    r"\b(?:some(?:one|body)|any(?:one|body)) (?:please |pls |just )?(?:call|ring|phone) (?:the|my|our|me|us)\b|"
    r"\btalk(?:ing)? (?:it|this) through\b|\b(?:would )?beats? typing\b|"
    r"\btake (?:me )?a novel to (?:type|write|explain)\b|"
    r"(?<!line )(?<!phone )(?<!calls )(?<!number )"  # "get my desk line to ring me out there" is call forwarding
    r"\b(?:to|please|pls|you|u|someone|somebody|anyone|anybody|can|could|just) (?:call|ring|phone)s? me\b|"
    r"\bgive me a (?:call|ring)\b|\b(?:able|free|around|available) to (?:come|swing|stop|drop|pop|run) "
    r"(?:by|over|up|down|out|in)\b|\b(?:have to|gotta|got to|need to|needs to) (?:be )?see(?:n)? (?:it |this |them )?"
    r"in person\b",
    re.IGNORECASE)
"""Wishing for a person rather than a chat: "if somebody could come take a look", "id rather somebody sit with me",
"my desk is 555-0147 if anyone has five minutes", "it would take me twenty messages to explain"."""
_HOW = re.compile(
    r"\b(?:(?:how|hwo) (?:else )?(?:do|can|should|would|does|will) (?:i|we|you|u|one|it|someone|they|people|he|she|"
    r"the|a|an|my|our|your|their|his|her)\b|"
    r"(?:how|hwo) to|how (?:long|often|many|much)|what (?:does|do) (?:\w+ ){1,12}mean\b|"
    r"how can i tell|how (?:do|can) i (?:tell|know)|what (?:should|would|could|will|does|do) (?:tip|clue) "
    r"(?:me|you|us|people|someone|staff) (?:off|in)\b|\btell-?tale\b|\bred flags\b|\bwarning signs\b|"
    r"\bwhat gives (?:it|them|one) away\b|what (?:should|do|would) (?:i|we|they|people|staff|you|u) (?:be )?"
    r"(?:look(?:ing)? (?:out )?for|watch(?:ing)? (?:out )?for)\b|why (?:does|do|is|am|did|would|wont|won't|cant|can't|"
    r"does|has|have|keeps?)|what (?:causes|makes|are the|is the (?:rule|best|way|process))|"
    r"what (?:do|should) (?:i|we) do|\banything (?:i|we) (?:can|could|should) (?:do|try|check)\b|"
    r"what (?:should|could|can|do) (?:i|we) (?:be )?(?:check|try|look)ing\b|"
    r"what (?:does|do|is) (?:it|they|the (?:system|screen|thing|box)|this) (?:even )?"
    r"(?:want|need|expect|accept|looking for)\b|what (?:can|should|could) (?:i|we) (?:check|try|look at|look for)|"
    r"is there (?:a|an|any|some) (?:\w+ )?(?:way|button|setting|guide|option)|"
    r"where (?:do|can|should) (?:i|we) (?:find|get|go|see)|what are the signs|myself|themsel(?:f|ves)|"
    r"on (?:my|their) own|by myself|"
    r"is it (?:ok|okay|alright|safe|allowed) to|am i allowed to|are we allowed to|"
    r"what (?:do|should|can) (?:i|we) (?:need to |have to )?do|what (?:happens|now)\b|\bnow what\b|"
    r"what (?:am i|are we) (?:supposed|meant|expected) to do|who do i (?:tell|call|notify|"
    r"contact|report)|do i (?:just )?(?:wait|have to|need to)|should i (?:be worried|worry|wait|report)|"
    r"is (?:it|this|that) normal|what'?s wrong with (?:it|that)\b|is it gone|can i get it back|"
    r"where do i (?:even )?start|"
    r"what(?:'s| is| does) the process|what process|who (?:has|needs) to (?:ask|request|approve)|"
    r"what (?:does|do|would|will) (?:my|the|our|his|her|their) (?:supervisor|boss|manager|director|chief|"
    r"department head) (?:have|need) to (?:send|do|submit|fill|sign|ask)|"
    r"(?:what'?s|what is) the (?:best|right|proper|correct|easiest|quickest) way|"
    r"can i (?:fix|sort|do|reset|change|unlock) (?:it|this|that)(?: myself| on my own| without)|without calling|"
    r"(?:want|wish|would like|'d like) (?:them|people|everyone|anyone|callers|folks)(?: \w+){0,3} to (?:get|know|"
    r"hear|see)|would be nice if (?:they|it|calls|people)|(?:i'?d|id) rather (?:it|they) (?:just )?(?:rang|ring))\b",
    re.IGNORECASE,
)
_BOT_ACTS = re.compile(
    r"(?<!how )\b(?:can|could|would|will) (?:you|someone|somebody|u)\b|\bplease\b|\bneed (?:you|someone) to\b|"
    r"\bfor me\b",
    re.IGNORECASE,
)
_DESK_ACTS = re.compile(
    r"\b(?:can|could|would|will) (?:you|someone|somebody|u|one of you|anyone|anybody|y'?all|you all)(?: guys)?"
    r"(?: please)? "
    r"(?!help|tell|show|explain|send me|point|let me know|walk|teach)\w+|"
    r"\bneed (?:you|someone|somebody|one of you) to\b|\bwould it be possible to (?:get|have)\b|"
    r"\b(?:if|whether) (?:you|someone|somebody|one of you|anyone|anybody) (?:could|can|would|might) "
    r"(?!help|tell|show|explain|send me|point|let me know|walk|teach)\w+|"
    r"\b(?:can|could|would) (?:that|this|it) be (?:arranged|done|set up|sorted|granted|added|given)\b|"
    r"\b(?:get|have) (?:me|him|her|them|us|it) (?:added|set up|installed|put on|access)|"
    r"\bplease (?:add|give|grant|set up|unlock|reset|install|remove) (?:me|him|her|them|us)\b|"
    r"\b(?:possibility|chance) (?:of|that) (?:getting |having )?(?:a |an )?(?:new|replacement|spare|loaner)\b|"
    r"\b(?:can|could|would|will) (?:you|someone|somebody|u)(?: please)? send (?:me|us|him|her|them) (?:a |an )?"
    r"(?:new|replacement|spare|loaner|another)\b|"
    r"\b(?:my|the|our|his|her|their) \w+(?: \w+)? (?:could|can) be (?:unlocked|reset|restored|re-?enabled|"
    r"turned back on)\b|"
    r"\bany (?:way|chance) (?:to |of )?(?:get(?:ting)?|hav(?:e|ing)) (?:it|that|this|them) (?:fixed|sorted|repaired|"
    r"looked at)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.?!;])\s+|\n")
_LEARNING = re.compile(r"\b(?:how|explain|instructions|steps|guide|is there a|where (?:do|can|is)|what)\b",
                       re.IGNORECASE)


_QUESTION = re.compile(
    r"\?|(?:^\W*|[,;.:]\s*|\b(?:so|and|also|but|or|ok|okay|then|now)\s+)(?:will|would|does|do|is|are|can|"
    r"could|should|what|which|where|when|who|why|how)\s+(?:it|this|that|they|he|she|i|we|you|there|the|a|an|my|our|"
    r"his|her|their|these|those|them|people|anyone|anybody|someone|somebody)\b|"
    r"(?:^\W*|[,;.:]\s*|\b(?:so|and|also|but|or|ok|okay|then|now)\s+)(?:what|which|where|when|who|why|how)\s+"
    r"(?:does|do|did|is|are|was|were|can|could|should|would|will)\s+(?:it|this|that|they|he|she|i|we|you|there|the|"
    r"my|our)\b|"
    r"(?:^\W*|\b(?:so|and|also|but|or|ok|okay|then|now)\s+)(?:is|are) (?:\w+ ){1,6}(?:allowed|permitted|ok|okay|"
    r"required|possible|supported)\W*$",
    re.IGNORECASE)


def asks_a_question(text: str) -> bool:
    """Whether ``text`` asks something (a question mark, or a clause put as a question without one: "does the invite
    give him anything to dial", "..., will it take that")."""
    return _QUESTION.search(text) is not None


def asks_desk_to_act(text: str) -> bool:
    """Whether a sentence of ``text`` asks the desk to do something for the person ("can someone put the pdf program
    on my computer", "could you get me added", "is there any possibility of a replacement headset", "can you send me
    a new one of the gadgets") rather than to
    tell or show them how. Only that sentence counts: "i tried what i believed it to be ... would someone be so
    kind as to reset it for me" asks the desk to act."""
    return any(_DESK_ACTS.search(sentence) and not _LEARNING.search(sentence) for sentence in _SENTENCE.split(text))


def asks_about_others(text: str) -> bool:
    """Whether ``text`` asks or tells whether others have the same trouble (the way staff ask "is it down")."""
    return _OTHERS.search(text) is not None


def asks_after_earlier(text: str) -> bool:
    """Whether ``text`` tells of a request made earlier that is still waiting ("put in a ticket last week about the
    monitor, havent heard a thing"): it asks after that request, not for a new one."""
    return _EARLIER.search(text) is not None and _WAITING.search(text) is not None


def asks_how_it_stands(text: str) -> bool:
    """Whether ``text`` asks how a request stands, or tells it still waits, without naming it ("is there any news on
    that one?", "has anyone had a chance to look at that yet"): said just after filing one, it asks after that."""
    return _WAITING.search(text) is not None


def asks_for_person(text: str) -> bool:
    """Whether ``text`` wishes for a person to call, come by or sit with them, rather than go on in the chat."""
    return _PERSON.search(text) is not None


CUES: dict[str, Callable[[str], bool]] = {"others": asks_about_others, "earlier": asks_after_earlier,
                                          "person": asks_for_person}
"""What a message can tell beside its intent that settles a reading (see ``Intent.confirmed_by``)."""


def tells_approval(text: str) -> bool:
    """Whether ``text`` tells that a supervisor approved what it asks for: a request for IT to grant it."""
    return _APPROVED.search(text) is not None


def asks_how(text: str) -> bool:
    """Whether ``text`` asks how or why something works or is done (to learn, or to do it oneself), rather
    than asking the desk to act ("can you reset it", "please unlock me")."""
    return bool(_HOW.search(text)) and not _BOT_ACTS.search(text)


def request_parts(text: str, limit: int) -> list[str]:
    """The sentences and clauses of ``text`` worth parsing alone, in order, each cut to ``limit``."""
    parts: list[str] = []
    for sentence in _SENTENCE.split(text):
        pieces = [sentence, *_CLAUSE.split(sentence)]
        for piece in pieces:
            piece = piece.strip(" ,.;-\t")
            if len(piece.split()) >= MIN_WORDS and piece not in parts and piece != text.strip():
                parts.append(piece[:limit])
    if len(parts) > MAX_PARTS:  # the request is usually near the start or the end
        half = MAX_PARTS // 2
        parts = parts[:half] + parts[-half:]
    return parts


async def parse_request(parser: Parser, text: str, limit: int, may_ask: Callable[[str], bool] | None = None,
                        cues: Mapping[str, Callable[[str], bool]] | None = None) -> ParseResult:
    """The parse that best says what ``text`` asks for (see the module doc); its ``text`` is the part used.

    ``may_ask`` says whether the person may ask for an intent: a part read as one they may not ("i want to post
    an update everyone can see" from someone who cannot announce) never stands for the message, and such a reading of
    the whole message gives way to the next unless the parser is surer than ``REFUSE_OVER``. ``cues`` maps an intent
    to the cue of the words that lifts it over the message's own first reading (see ``_cued``).
    """
    cues = cues or {}
    whole = await parser.parse(text[:limit])
    if may_ask is not None:
        whole = _askable(whole, may_ask)
    cued = _cued(whole, cues, text)
    if cued is not None:
        return cued
    best, best_score = whole, _score(whole, whole["text"], cues)
    if len(text.split()) < 2 * MIN_WORDS:
        return whole
    parts = request_parts(text, limit)
    asking = [part for part in parts if _ASKING.search(part)]
    for part in asking or parts:  # when some parts ask, the others are context ("150 requests in it with deadlines")
        parsed = await parser.parse(part)
        score = _score(parsed, part, cues)
        if may_ask is not None and not may_ask(str((parsed.get("intent") or {}).get("name") or "")):
            continue
        if not _among(whole, parsed) or not _names_a_person(parsed, part, cues):
            continue
        if cues.get(str((parsed.get("intent") or {}).get("name"))) is asks_about_others and _ONLY_MINE.search(text):
            continue  # "calls are stacking up in the queue ... everyone else is fine, its only my station"
        if score > best_score + (GAIN if best is whole else 0.0):
            best, best_score = parsed, score
    if best is whole:
        return whole
    if _OTHERS.search(best["text"]):  # "anybody else, or is it my computer": the system is the one the symptom names
        return {**best, "entities": _merged(best["entities"], whole["entities"])}
    return {**best, "entities": _merged(whole["entities"], best["entities"])}


def _score(parse: ParseResult, text: str, cues: Mapping[str, Callable[[str], bool]]) -> float:
    intent = parse.get("intent") or {}
    if not intent.get("name") or intent["name"] in NOT_A_REQUEST:
        return 0.0
    cue = cues.get(intent["name"])
    lift = CUE_LIFT if cue is not None and cue(text) else 0.0
    return float(intent.get("confidence") or 0.0) + (ASKING_BONUS if _ASKING.search(text) else 0.0) + lift


def _cued(whole: ParseResult, cues: Mapping[str, Callable[[str], bool]], text: str) -> ParseResult | None:
    """A whole message whose words carry the cue of a reading among its first ``CUE_AMONG`` (``AMONG_FLOOR``):
    telling that others have the same trouble for the outage question ("and so has the guy at the next desk"),
    telling of a request made earlier and still waiting for the question about one's tickets, wishing for someone to
    come by or call for the wish to talk to a person. That reading comes first, ``CUE_LIFT`` surer, over the
    message's own first reading (a problem to report); when it is the first reading already, the whole message
    stands for itself, no part outvoting it ("munis just spins ... wondering if its something on your side").
    The cue is looked for in all of ``text``, past what the parser reads: the wish often comes last ("... it would go
    far more quickly if one of your technicians could ring me"). None when no cue settles the reading."""
    ranking = whole.get("intent_ranking", [])
    first = (whole.get("intent") or {}).get("name")
    for intent, cue in cues.items():
        found = next((r for r in ranking[:CUE_AMONG] if r["name"] == intent and r["confidence"] >= AMONG_FLOOR), None)
        if found is None and cue is asks_for_person:
            # a wish for a person needs no rank, its words say it: "id just like one of your people to work on it"
            found = next((r for r in ranking if r["name"] == intent), IntentScore(name=intent, confidence=0.0))
        if found is None or not cue(text):
            continue
        if first == intent:
            return whole
        return read_first(whole, IntentScore(name=intent, confidence=min(1.0, float(found["confidence"]) + CUE_LIFT)))
    return None


def _names_a_person(parse: ParseResult, part: str, cues: Mapping[str, Callable[[str], bool]]) -> bool:
    """Whether a part read as the wish for a person names one, or a way to reach one ("I'm the on-call operator this
    whole week", a part of a report of a broken phone, alone reads as that wish at 0.79), and does not ask the desk to
    do something instead ("could someone there clear it out", after the voicemail guide, reads as that wish at 0.96)."""
    cue = cues.get(str((parse.get("intent") or {}).get("name") or ""))
    if cue is not asks_for_person:
        return True
    return _PERSONISH.search(part) is not None and (asks_for_person(part) or not asks_desk_to_act(part))


def _askable(parse: ParseResult, may_ask: Callable[[str], bool]) -> ParseResult:
    """``parse`` without the readings the person may not ask for, unless the first of them is surer than
    ``REFUSE_OVER`` (then it stands, and is refused with a reason)."""
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    if not name or may_ask(name) or float(intent.get("confidence") or 0.0) > REFUSE_OVER:
        return parse
    ranking = [r for r in parse.get("intent_ranking", []) if may_ask(r["name"])]
    return {**parse, "intent": ranking[0], "intent_ranking": ranking} if ranking else parse


def _among(whole: ParseResult, part: ParseResult, top: int = 3) -> bool:
    """Whether the whole message has the part's reading among its ``top`` readings, at ``AMONG_FLOOR`` or more (a
    vague part such as "could someone get it put on for him" alone reads as a wish to talk to a person)."""
    name = (part.get("intent") or {}).get("name")
    return name in [r["name"] for r in whole.get("intent_ranking", [])[:top] if r["confidence"] >= AMONG_FLOOR]


def _merged(second: list[Entity], first: list[Entity]) -> list[Entity]:
    """The ``first`` entities (the part's), then those of ``second`` (the whole's: a system named in the
    context) of kinds ``first`` lacks."""
    have = {entity["entity"] for entity in first}
    return [*first, *(entity for entity in second if entity["entity"] not in have)]
