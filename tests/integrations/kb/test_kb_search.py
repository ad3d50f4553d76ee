"""Knowledge-base search: synonyms, system boost, honest "no answer", loading errors, and the evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.core.settings import PROJECT_ROOT
from bot.integrations.kb import Article, Hit, KnowledgeBase, Miss, evaluate_retrieval, load_pairs, tokenize
from bot.integrations.kb.words import without_feared
from bot.nlu import load_training_data

SYNONYMS = {"e-mail": "outlook", "email": "outlook", "inbox": "outlook", "globalprotect": "vpn"}


def article(folder: Path, name: str, front: str, body: str = "Some text.\n\n## Steps\n1. Do it.\n") -> Path:
    path = folder / f"{name}.md"
    path.write_text(f"---\n{front.strip()}\n---\n{body}", encoding="utf-8")
    return path


@pytest.fixture
def small_kb(tmp_path: Path) -> KnowledgeBase:
    """Four articles; the Outlook one never says "email"."""
    article(tmp_path, "ooo", "id: ooo\ntitle: Automatic replies in Outlook\ntags: [outlook]\nsystems: [outlook]",
            "Outlook can answer people while you are away.\n\n## Steps\n1. Click File.\n2. Click Automatic Replies.\n")
    article(tmp_path, "vpn", "id: vpn\ntitle: Connect the tunnel from home\ntags: [remote]\nsystems: [vpn]",
            "The tunnel reaches the city network.\n\n## Steps\n1. Click the globe.\n")
    article(tmp_path, "print", "id: print\ntitle: Printer not printing\ntags: [printer, jam]\nsystems: [printer]",
            "Clear the jam.\n\n## Steps\n1. Open the door.\n2. Pull the paper.\n")
    article(tmp_path, "badge", "id: badge\ntitle: Lost badge\ntags: [badge]\nsystems: [badge]\n"
            "questions:\n  - my key card went missing",
            "Report a lost badge.\n\n## Steps\n1. Tell your supervisor.\n")
    kb = KnowledgeBase(tmp_path, base_url="https://kb.example/", synonyms=SYNONYMS)
    kb.load()
    return kb


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    """The project's own articles with the NLU's synonyms, as the bot runs them."""
    synonyms = load_training_data(PROJECT_ROOT / "intents").synonyms
    kb = KnowledgeBase(PROJECT_ROOT / "data" / "kb", synonyms=synonyms)
    kb.load()
    return kb


def ids(hits: list[Hit]) -> list[str]:
    return [hit.article.id for hit in hits]


def answer(kb: KnowledgeBase, question: str) -> str | None:
    """The id of the article the judge answers ``question`` with, if any."""
    best = kb.best(question)
    return best.article.id if best is not None else None


# -- search ----------------------------------------------------------------------------------------


def test_synonym_expansion_finds_the_outlook_article_for_e_mail(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    assert ids(small_kb.search("my e-mail replies while I am away"))[:1] == ["ooo"]
    assert ids(small_kb.search("e-mail", limit=1)) == ["ooo"]
    plain = KnowledgeBase(tmp_path, dense=False)  # words only, without the NLU's synonyms: "e-mail" means nothing
    plain.load()
    assert plain.search("e-mail") == []


def test_canonical_system_is_expanded_to_its_surfaces(tmp_path: Path) -> None:
    article(tmp_path, "client", "id: client\ntitle: Install GlobalProtect\ntags: [install]",
            "Install the client.\n\n## Steps\n1. Open Software Center.\n")
    article(tmp_path, "other", "id: other\ntitle: Install a printer\ntags: [install]",
            "Install the printer.\n\n## Steps\n1. Open Software Center.\n")
    kb = KnowledgeBase(tmp_path, synonyms={"globalprotect": "vpn", "anyconnect": "vpn"})
    kb.load()
    assert ids(kb.search("install vpn"))[:1] == ["client"]


def test_questions_field_and_thesaurus_are_searched(small_kb: KnowledgeBase) -> None:
    assert ids(small_kb.search("key card went missing"))[:1] == ["badge"]
    # "pw", "copier", "jammed" are everyday words the thesaurus maps to the articles' words
    assert ids(small_kb.search("the copier is jammed"))[:1] == ["print"]


def test_misspelt_word_is_corrected(small_kb: KnowledgeBase) -> None:
    assert ids(small_kb.search("printr is not printng"))[:1] == ["print"]
    assert ids(small_kb.search("automatc replys"))[:1] == ["ooo"]


def test_system_boost_ranks_the_articles_about_the_nlu_system_first(tmp_path: Path) -> None:
    text = "A reset link.\n\n## Steps\n1. Click reset.\n"
    article(tmp_path, "a", "id: a\ntitle: Reset a password\nsystems: [erp]", text)
    article(tmp_path, "b", "id: b\ntitle: Reset a password\nsystems: [vpn]", text)
    kb = KnowledgeBase(tmp_path, synonyms={"globalprotect": "vpn"})
    kb.load()
    plain = kb.search("reset my password")
    assert ids(plain) == ["a", "b"] and plain[0].score == pytest.approx(plain[1].score)
    assert ids(kb.search("reset my password", systems=("vpn",))) == ["b", "a"]
    assert ids(kb.search("reset my password", systems=("GlobalProtect",))) == ["b", "a"]  # a surface works too
    boosted = kb.search("reset my password", systems=("vpn",))
    assert boosted[0].score > plain[0].score


def test_search_limit_order_and_link(small_kb: KnowledgeBase) -> None:
    hits = small_kb.search("printer paper jam outlook badge tunnel", limit=2)
    assert len(hits) == 2 and hits[0].score >= hits[1].score
    assert small_kb.search("printer", limit=0) == []
    assert small_kb.search("") == [] and small_kb.search("the and of") == []
    top = small_kb.search("printer")[0].article
    assert small_kb.link(top) == "https://kb.example/print"
    assert top.first_steps() == ["1. Open the door.", "2. Pull the paper."]
    assert top.summary() == "Clear the jam."


def test_tokenize_stems_and_drops_stop_words() -> None:
    assert tokenize("How do I connect to the printers?") == ["connect", "printer"]
    assert tokenize("Connecting, connected") == ["connect", "connect"]


# -- best: an answer or an honest "no" -------------------------------------------------------------


@pytest.mark.parametrize("question", [
    "how do i calibrate the plotter in the gis lab",
    "how do i enroll in dental",
    "what's the capital of peru",
    "tell me a joke",
    "the ice machine in the break room is broken",
    "",
])
def test_best_returns_none_for_off_topic_questions(real_kb: KnowledgeBase, question: str) -> None:
    assert real_kb.best(question) is None


@pytest.mark.parametrize(("question", "expected"), [
    ("how do i set up my out of office reply in outlook", "outlook-out-of-office"),
    ("how do i get my e-mail on my phone", "mobile-email-phone"),
    ("vpn from home", "vpn-from-home"),
    ("my printer is jammed", "printer-not-printing"),
    # "forgets" stems to "forget", not the articles' "forgot": the thesaurus joins them (before: staff Wi-Fi, whose
    # questions say "forget and reconnect")
    ("if one of our staff forgets their password on a saturday can they sort it out without us",
     "self-service-password-reset"),
    # "trashed", "tossed", "cleaning out my inbox": deleting one's own mail (before: the shared mailbox guide)
    ("was cleaning out my inbox yesterday and trashed the email with the signed lease in it, i need it",
     "recover-deleted-email"),
])
def test_best_answers_questions_that_have_an_article(real_kb: KnowledgeBase, question: str, expected: str) -> None:
    hit = real_kb.best(question)
    assert hit is not None and hit.article.id == expected


def test_best_of_takes_the_first_reading_with_an_answer_and_guesses_nothing(real_kb: KnowledgeBase) -> None:
    """The whole message is asked first, the request found in it second; none when neither has an answer."""
    whole = "finance moved me to a new desk and now i need my old phone calls to ring at the annex"
    request = "plorp the zxqv"
    assert real_kb.best(request) is None
    hit = real_kb.best_of(whole, request)
    assert hit is not None and hit == real_kb.best(whole)
    assert real_kb.best_of(request, whole) == hit
    assert real_kb.best_of("what's for lunch at the cafeteria today", request) is None
    assert real_kb.best_of("", request) is None


def test_a_trouble_only_feared_is_not_what_is_searched_for(real_kb: KnowledgeBase) -> None:
    """"... rather than get locked out at the worst time" fears a lockout; the question is about the expiry. Read
    whole, the lockout guide came first; without the clause, the guide on changing one's password does. A lockout
    told still finds its own guide."""
    question = ("got a message my sign in expires thursday. would like to sort it out today rather than get locked out "
                "at the worst time, whats the process")
    assert "locked out" not in without_feared(question) and "whats the process" in without_feared(question)
    assert ids(real_kb.search(question))[0] == "change-password"
    worried = "the warning says my password runs out in 2 days and i dont want to be locked out while im away"
    assert "account-lockout" not in ids(real_kb.search(worried))[:2]
    assert ids(real_kb.search("locked out again this morning, how long do i have to wait"))[0] == "account-lockout"


def test_visitors_bringing_their_own_laptops_get_the_guest_wifi_guide(real_kb: KnowledgeBase) -> None:
    """Inspectors, auditors or coaches "with their own laptops" are visitors on personal devices: the guest Wi-Fi
    guide, not the one for city laptops on the staff network, which ranked first before the thesaurus said so."""
    for question in ("state health inspectors are at the shelter all week and want to use their own tablets. what "
                     "wifi do we put them on",
                     "the swim team coaches visiting saturday need internet on their own phones, which network"):
        assert ids(real_kb.search(question))[0] == "guest-wifi"
    assert ids(real_kb.search("my city laptop wont find the staff wifi in the annex"))[0] == "staff-wifi"


def test_a_badge_snapped_or_washed_is_the_broken_badge_guide(real_kb: KnowledgeBase) -> None:
    """A card that "snapped in half" or "went through the washer" is broken: the guide on lost, stolen or broken
    badges (the best answer), not the one on requesting door access, which its door words brought first before the
    thesaurus said so."""
    for question in ("My ID card snapped in half in the car door this morning. How do I get a new one printed?",
                     "my picture id card went through the washer and now the door doesnt beep green for it anymore, "
                     "how do i get another one"):
        best = real_kb.best(question)
        assert best is not None and best.article.id == "lost-badge"


def test_the_line_at_the_bottom_of_ones_emails_is_the_signature_guide(real_kb: KnowledgeBase) -> None:
    """"my emails still end with my old title ... that bit at the bottom": the signature, told without its name; a
    promotion told first led to the guide for staff leaving or changing jobs before the thesaurus said so."""
    question = ("moved up to senior clerk in june and my emails still end with clerk I, how do i fix that bit at the "
                "bottom")
    assert answer(real_kb, question) == "outlook-email-signature"


@pytest.mark.parametrize("question", [
    "could it just be a whole sentence with spaces in it, like a line from a song",
    "is there a particular length it has to be these days, my last one got turned down",
])
def test_a_passphrase_or_a_length_told_in_everyday_words_is_the_password_rules(real_kb: KnowledgeBase,
                                                                               question: str) -> None:
    """A passphrase told as "a whole sentence with spaces" and a length asked about are the password rules, surely
    enough to answer (the judge read them at 0.29 and 0.34 before the thesaurus said so)."""
    assert answer(real_kb, question) == "password-rules"


@pytest.mark.parametrize("question", [
    "after the hearing is over how do i cut off their access to the recordings i sent",
    "once the appraiser has the photos can i kill the link so it stops working",
])
def test_cutting_off_a_link_or_someones_access_is_the_sharing_guide(real_kb: KnowledgeBase, question: str) -> None:
    """Stopping a shared link, told as "cut off their access" or "kill the link", is the guide on sharing files with
    outside people (it says how to stop sharing), which did not rank first before the thesaurus said so."""
    assert ids(real_kb.search(question))[0] == "share-files-outside-people"


def test_who_really_sent_an_email_is_the_guide_on_spotting_phishing(real_kb: KnowledgeBase) -> None:
    """Checking whether a message is "really from" the person it names is spotting a fake; the guide on shared
    mailboxes (its sender words) led before the thesaurus said so."""
    question = "is there a way to see who actually sent an email when the name at the top looks like my director"
    assert answer(real_kb, question) == "spot-phishing"


def test_the_days_left_notice_is_the_guide_on_changing_ones_password(real_kb: KnowledgeBase) -> None:
    """"that 2 days left notice came up for my pw" tells of an expiry: the guide on changing one's password, where the
    guide on lost badges led before the thesaurus said so."""
    question = "that 2 days left notice came up for my pw, how do i swap it out myself"
    assert answer(real_kb, question) == "change-password"


@pytest.mark.parametrize("question", [
    "got promoted to deputy clerk in may and my emails still say assistant clerk under my name, how do i change it",
    "just got bumped up to shift lead, how do i get the bottom of every email to say it",
])
def test_a_promotion_told_before_the_bottom_of_ones_emails_is_the_signature_guide(real_kb: KnowledgeBase,
                                                                                  question: str) -> None:
    """A promotion told first ("got promoted", "bumped up to") and the title "under my name" at the bottom of every
    email: the signature guide, where the guides on records and on shared mailboxes led before the thesaurus said
    so."""
    assert answer(real_kb, question) == "outlook-email-signature"


def test_whether_emails_have_to_be_kept_is_the_retention_guide(real_kb: KnowledgeBase) -> None:
    """"Do i have to keep these emails or can i delete them" asks about public records, not about getting deleted
    mail back, which ranked first before the thesaurus said so."""
    question = "are the emails with the contractor about the bid something i have to keep, or can i delete them after"
    assert ids(real_kb.search(question + " the award"))[0] == "email-retention-archive"


def test_getting_into_a_training_by_phone_is_the_teams_meeting_guide(real_kb: KnowledgeBase) -> None:
    """"How do they get into the training", for volunteers with only a phone, is joining a Teams meeting: the guide
    on booking a room led before the thesaurus said that getting into a training or meeting is joining it."""
    question = ("the ceremony rehearsal training is thursday at 10 on teams. a few of the retired volunteers have no "
                "computer at all, just phones. how do they get into the training")
    assert answer(real_kb, question) == "teams-meetings"


def test_every_real_article_has_sample_questions(real_kb: KnowledgeBase) -> None:
    """Each article lists a handful of the ways staff ask for it (3 to 10): enough to be found in their words, not
    so many that it becomes a list of paraphrases of the evaluation data."""
    assert real_kb.errors == [] and len(real_kb.articles) == len(list(real_kb.folder.glob("*.md")))
    assert all(3 <= len(a.questions) <= 10 for a in real_kb.articles)


# -- loading ---------------------------------------------------------------------------------------


def test_broken_front_matter_names_file_and_line_and_others_still_load(tmp_path: Path) -> None:
    article(tmp_path, "good", "id: good\ntitle: Good article\ntags: [fine]")
    article(tmp_path, "bad", "id: bad\ntitle: Bad article\ntags: [one, two]]\nsystems: [vpn]")
    article(tmp_path, "noid", "title: No id here\ntags: [x]")
    article(tmp_path, "badq", "id: badq\ntitle: Questions as a mapping\nquestions:\n  a: b")
    (tmp_path / "nofront.md").write_text("just text\n", encoding="utf-8")
    kb = KnowledgeBase(tmp_path)
    kb.load()
    assert [a.id for a in kb.articles] == ["good"]
    errors = sorted(kb.errors)
    assert len(errors) == 4
    assert any(str(tmp_path / "bad.md") + ":4:" in e for e in errors), errors
    assert any(str(tmp_path / "noid.md") + ":2:" in e and "'id'" in e for e in errors), errors
    assert any(str(tmp_path / "badq.md") + ":4:" in e and "questions" in e for e in errors), errors
    assert any(str(tmp_path / "nofront.md") + ":1:" in e for e in errors), errors
    assert ids(kb.search("good article")) == ["good"]


def test_a_guide_may_say_to_report_a_security_or_urgent_matter_and_nothing_else(tmp_path: Path) -> None:
    """``reported:`` names the kind of matter the guide says to report at once; any other value is an error that names
    the file and its line, and the other articles still load."""
    article(tmp_path, "lost", "id: lost\ntitle: Lost device\nreported: security")
    article(tmp_path, "odd", "id: odd\ntitle: Odd one\ntags: [x]\nreported: alarm")
    kb = KnowledgeBase(tmp_path)
    kb.load()
    assert [(a.id, a.reported) for a in kb.articles] == [("lost", "security")]
    assert len(kb.errors) == 1 and str(tmp_path / "odd.md") + ":5:" in kb.errors[0] and "reported" in kb.errors[0]


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    article(tmp_path, "one", "id: same\ntitle: First")
    article(tmp_path, "two", "id: same\ntitle: Second")
    kb = KnowledgeBase(tmp_path)
    kb.load()
    assert [a.title for a in kb.articles] == ["First"]
    assert len(kb.errors) == 1 and "two.md" in kb.errors[0] and "same" in kb.errors[0]


def test_empty_or_missing_folder_gives_no_articles_and_no_crash(tmp_path: Path) -> None:
    for folder in (tmp_path, tmp_path / "missing"):
        kb = KnowledgeBase(folder, synonyms=SYNONYMS)
        kb.load()
        assert kb.articles == [] and kb.errors == []
        assert kb.search("vpn from home") == [] and kb.best("vpn from home") is None


def test_load_rereads_the_folder(tmp_path: Path) -> None:
    kb = KnowledgeBase(tmp_path)
    kb.load()
    assert kb.best("printer jam") is None
    article(tmp_path, "print", "id: print\ntitle: Printer paper jam\ntags: [printer, jam]",
            "Clear a paper jam in the printer.\n\n## Steps\n1. Open the printer door.\n")
    kb.load()
    assert ids(kb.search("printer jam")) == ["print"]
    (tmp_path / "print.md").unlink()
    kb.load()
    assert kb.articles == [] and kb.search("printer jam") == []


# -- evaluation ------------------------------------------------------------------------------------


class FakeKB:
    """Answers from a fixed table: question -> ranked ids, and which questions ``best`` answers."""

    def __init__(self, ranked: dict[str, list[str]], answered: set[str]) -> None:
        self.ranked, self.answered = ranked, answered

    def search(self, question: str, *, systems: tuple[str, ...] = (), limit: int = 3) -> list[Hit]:
        return [Hit(Article(id=i, title=i, body=""), 1.0) for i in self.ranked[question][:limit]]

    def best(self, question: str, *, systems: tuple[str, ...] = ()) -> Hit | None:
        hits = self.search(question, limit=1)
        return hits[0] if hits and question in self.answered else None


def test_evaluate_retrieval_math() -> None:
    kb = FakeKB(
        {"q1": ["a", "b", "c"], "q2": ["b", "a", "c"], "q3": ["c", "b", "x", "a"], "q4": ["x", "y"]},
        answered={"q1", "q2", "q4"},
    )
    report = evaluate_retrieval(kb, [("q1", "a"), ("q2", "a"), ("q3", "a"), ("q4", "a")])  # type: ignore[arg-type]
    assert report.count == 4
    assert report.hit_at_1 == pytest.approx(1 / 4)
    assert report.hit_at_3 == pytest.approx(2 / 4)
    assert report.mrr == pytest.approx((1 + 1 / 2 + 1 / 4 + 0) / 4)
    assert report.answered == pytest.approx(3 / 4)
    assert report.answered_correctly == pytest.approx(1 / 4)
    assert report.misses == [Miss("q2", "a", ("b", "a", "c")), Miss("q3", "a", ("c", "b", "x")),
                             Miss("q4", "a", ("x", "y"))]
    assert [m.rank for m in report.misses] == [2, None, None]
    assert json.loads(json.dumps(report.to_dict()))["hit_at_3"] == 0.5


def test_evaluate_retrieval_on_a_tiny_real_kb(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    words_only = KnowledgeBase(tmp_path, synonyms=SYNONYMS, dense=False)  # by meaning, a plotter is a printer
    words_only.load()
    report = evaluate_retrieval(words_only, [("printer paper jam", "print"), ("lost badge", "badge"),
                                           ("tunnel from home", "vpn"), ("plotter calibration", "print")])
    assert (report.count, report.hit_at_1, report.hit_at_3) == (4, 0.75, 0.75)
    assert report.mrr == pytest.approx(0.75)
    assert [m.question for m in report.misses] == ["plotter calibration"] and report.misses[0].got == ()
    assert report.answered <= 0.75
    assert evaluate_retrieval(small_kb, []).count == 0


def test_load_pairs_reads_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text('{"question": "vpn from home", "article_id": "vpn"}\n\n'
                    '{"question": " printer ", "article_id": "print", "note": "extra keys are fine"}\n',
                    encoding="utf-8")
    assert load_pairs(path) == [("vpn from home", "vpn"), ("printer", "print")]


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not valid JSON"),
    ('["a", "b"]', "must be an object"),
    ('{"question": "q"}', "'article_id'"),
    ('{"question": "", "article_id": "a"}', "'question'"),
    ('{"question": "q", "article_id": 7}', "'article_id'"),
])
def test_load_pairs_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text('{"question": "ok", "article_id": "a"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"dev\.jsonl:3: line 3 .*{message}"):
        load_pairs(path)


def test_project_dev_set_is_valid(real_kb: KnowledgeBase) -> None:
    pairs = load_pairs(PROJECT_ROOT / "data" / "kb_eval" / "dev.jsonl")
    assert len(pairs) >= 150
    known = {a.id for a in real_kb.articles}
    assert {expected for _question, expected in pairs} <= known


# -- hybrid search and the judge ---------------------------------------------------------------------


def test_a_paraphrase_with_no_shared_word_finds_the_article(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    question = "i'm on holiday next week, can my mails respond by themselves"
    words_only = KnowledgeBase(tmp_path, dense=False)
    words_only.load()
    assert "ooo" not in ids(words_only.search(question))
    assert ids(small_kb.search(question))[:1] == ["ooo"]


def test_confidence_orders_a_good_answer_above_a_loose_one(real_kb: KnowledgeBase) -> None:
    good = real_kb.search("how do i connect to the vpn from home", limit=1)[0]
    loose = real_kb.search("my cat knocked over a plant", limit=1)
    assert 0.0 <= good.confidence <= 1.0 and good.article.id == "vpn-from-home"
    assert not loose or loose[0].confidence < good.confidence
    assert real_kb.best("how do i connect to the vpn from home") == good
    assert real_kb.best("what's the capital of peru") is None


def test_hits_are_ranked_with_a_confidence_each(real_kb: KnowledgeBase) -> None:
    hits = real_kb.search("outlook says my mailbox is almost full", limit=3)
    assert len(hits) == 3 and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0.0 <= h.confidence <= 1.0 for h in hits)


def test_article_vectors_are_cached_between_loads(tmp_path: Path, small_kb: KnowledgeBase) -> None:
    cache = tmp_path / "cache"
    first = KnowledgeBase(small_kb.folder, cache_dir=cache)
    first.load()
    [saved] = list(cache.glob("kb-vectors-*.npz"))
    again = KnowledgeBase(small_kb.folder, cache_dir=cache)
    again.load()
    assert np.array_equal(first._index.vectors, again._index.vectors)
    saved.write_bytes(b"broken")
    broken = KnowledgeBase(small_kb.folder, cache_dir=cache)
    broken.load()  # a broken cache file is encoded again, not fatal
    assert ids(broken.search("printer jam"))[:1] == ["print"]


def test_a_password_that_runs_out_is_the_change_guide_even_when_outlook_tells_of_it(real_kb: KnowledgeBase) -> None:
    """"my password runs out" is the expiry the change guide covers; Outlook, the system named, boosts the guide on
    Outlook asking for a password again and again, which ranked first before "runs out" meant expiring."""
    first = real_kb.search("the little outlook popup says my password runs out friday, can i do it myself now",
                           systems=("outlook",))[0]
    assert first.article.id == "change-password"


def test_the_vpn_guide_counts_as_about_the_shared_drives(real_kb: KnowledgeBase) -> None:
    """Reaching the S drive from home is the VPN guide's job: it is boosted with the shared-drive guide when a message
    names the S drive, so "from the house" decides between them rather than the boost alone."""
    question = "finishing the audit from home thursday and the spreadsheets live on the S drive, what do i need to do"
    plain = {hit.article.id: hit.score for hit in real_kb.search(question, limit=5)}
    named = {hit.article.id: hit.score for hit in real_kb.search(question, systems=("shared drive",), limit=5)}
    assert named["vpn-from-home"] > plain["vpn-from-home"]
    assert named["shared-drive-mapping"] > plain["shared-drive-mapping"]


def test_network_folders_from_home_are_the_vpn_guide(real_kb: KnowledgeBase) -> None:
    """"snowed in at home ... need the treasurer's network folders" is the VPN's job: "at home" adds the VPN's words,
    not "home" alone, which the drive guide's "home folder" (the H drive) shares. In the office, the H drive is the
    drive guide's."""
    snowed_in = ("snowed in at home with my city laptop and need the treasurer's network folders, how do i get to them "
                 "from here")
    assert answer(real_kb, snowed_in) == "vpn-from-home"
    assert answer(real_kb, "H drive has a red x on it. im in the office not at home") == "shared-drive-mapping"


def test_an_article_is_found_by_its_id(real_kb: KnowledgeBase) -> None:
    """``article`` gives the loaded article of an id, and None for an id the folder does not have (or none at all)."""
    article = real_kb.article("vpn-from-home")
    assert article is not None and article.title == "Connect to the VPN from home"
    assert real_kb.article("no-such-guide") is None and real_kb.article(None) is None
