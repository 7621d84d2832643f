"""Prompts built from the user's own data: readable labels, worked examples from the user's table, copy flags."""

from __future__ import annotations

import re

import pytest

from core.arena.classifier import IntentClassifier, load_labelled_queries
from core.arena.hybrid import QueryAnalysis, analyze_query, build_prompts, example_pool
from core.arena.prompts import (CONTEXTUALISED_TEMPLATE, FEW_SHOT_CASES, ExamplePool, context_values,
                                find_copy, format_only_cases, humanise_label, neutral_answer, worked_examples)

BUNDLED = {c["category"] for c in FEW_SHOT_CASES} | {lab for c in FEW_SHOT_CASES for lab, _ in c["top_k"]}
TEXTS = ["Where is my new card?", "My card still hasn't arrived", "How do I top up by bank transfer?",
         "Top up failed twice", "I was charged twice for one coffee", "Why was I charged two times?",
         "Someone stole my card", "My card was stolen yesterday", "カードがまだ届きません", "二重に引き落とされました",
         "How do I change my PIN?", "I forgot my PIN"]
LABELS = ["card_arrival", "card_arrival", "top_up_by_bank_transfer", "top_up_failed", "transaction_charged_twice",
          "transaction_charged_twice", "lost_or_stolen_card", "lost_or_stolen_card", "card_arrival",
          "transaction_charged_twice", "change_pin", "change_pin"]


def _analysis(query, category, top_k):
    return QueryAnalysis(query, category, top_k[0][1], top_k, "NEGATIVE", {"Negative": 0.9}, "en", "high")


def test_prompts_use_the_apps_one_humanise_label():
    from core.arena import choice
    for key in ("balance_not_updated_after_cheque_or_cash_deposit", "Card-Arrival", "alarm/set_alarm", "ATM_support"):
        assert humanise_label(key) == choice.humanise_label(key)
    assert humanise_label("balance_not_updated_after_cheque_or_cash_deposit") == \
        "Balance not updated after cheque or cash deposit"


def test_prose_uses_readable_labels_and_keeps_the_raw_key():
    values = context_values(query="q", category="balance_not_updated_after_cheque_or_cash_deposit", confidence=0.8,
                            top_k=[("balance_not_updated_after_cheque_or_cash_deposit", 0.8),
                                   ("top_up_by_bank_transfer_charge", 0.1)])
    assert values["category_key"] == "balance_not_updated_after_cheque_or_cash_deposit"
    text = CONTEXTUALISED_TEMPLATE.render(values).user_text
    assert "- Category: Balance not updated after cheque or cash deposit (confidence 80%)" in text
    assert "Top up by bank transfer charge (10%)" in text
    assert "Answer as a specialist for this category: Balance not updated after cheque or cash deposit." in text
    assert "_" not in text.replace("<query>q</query>", "")


def test_pool_examples_are_the_users_rows_same_language_far_categories():
    pool = ExamplePool(TEXTS, LABELS, per_label=2)
    chosen = pool.select("My card was stolen, help", "lost_or_stolen_card",
                         ["lost_or_stolen_card", "card_arrival"], n=3)
    assert len(chosen) == 3
    cats = [c["category"] for c in chosen]
    assert len(set(cats)) == 3 and not {"lost_or_stolen_card", "card_arrival"} & set(cats)
    assert all(c["query"] in TEXTS and c["language"] == "en" for c in chosen)
    assert all(c["answer"] == neutral_answer(c["category"], "en") for c in chosen)
    assert chosen == pool.select("My card was stolen, help", "lost_or_stolen_card",
                                 ["lost_or_stolen_card", "card_arrival"], n=3)  # deterministic per query
    ja = pool.select("カードを盗まれました", "lost_or_stolen_card", [], n=2)
    assert [c["language"] for c in ja] == ["ja", "ja"]  # the two Japanese rows first
    assert ja[0]["answer"].endswith("詳しい状況をお知らせいただけますか。")


def test_pool_uses_an_answer_column_when_given():
    answers = [f"Answer {i}" for i in range(len(TEXTS))]
    pool = ExamplePool(TEXTS, LABELS, answers, per_label=5)
    chosen = pool.select("How do I change my PIN?", "change_pin", [], n=2)
    assert all(re.fullmatch(r"Answer \d+", c["answer"]) for c in chosen)
    assert all(answers[TEXTS.index(c["query"])] == c["answer"] for c in chosen)


def test_few_shot_prompts_never_carry_bundled_categories():
    pool = ExamplePool(TEXTS, LABELS)
    a = _analysis("Someone used my card abroad", "lost_or_stolen_card",
                  [("lost_or_stolen_card", 0.7), ("transaction_charged_twice", 0.2)])
    for examples in (pool, None):  # the user's rows, or format-only cases
        prompts = build_prompts(a, few_shot=True, examples=examples)
        for arm in ("raw", "contextualised"):
            text = prompts[arm].as_text()
            named = set(re.findall(r"Category: ([^(\n]+) \(", text))
            assert named <= {humanise_label(lab) for lab in LABELS}, named
            for bundled in BUNDLED - set(LABELS):
                shown = humanise_label(bundled)
                assert f"Category: {shown}" not in text and f"({shown})" not in text
            assert "update the app" not in text and "二回請求" not in text  # the bundled answers are not used
    # both prompts get the same examples
    p = build_prompts(a, few_shot=True, examples=pool)
    assert [q for q, _ in worked_examples(p["raw"])] == [q for q, _ in worked_examples(p["contextualised"])]


def test_format_only_cases_name_only_the_given_labels():
    cases = format_only_cases("Where is my card?", "card_arrival", ["card_arrival", "change_pin"])
    assert {c["category"] for c in cases} == {"change_pin"}
    assert cases[0]["answer"] == "Thanks for your message (Change pin). Could you give us the details so we can sort it out?"
    assert format_only_cases("ok", "", [])[0]["category"] == ""


def test_copies_are_flagged_and_paraphrases_are_not():
    pool = ExamplePool(TEXTS, LABELS)
    a = _analysis("My card was stolen", "lost_or_stolen_card", [("lost_or_stolen_card", 0.9)])
    prompt = build_prompts(a, few_shot=True, examples=pool)["contextualised"]
    examples = worked_examples(prompt)
    assert len(examples) == 3
    copy = find_copy(examples[1][1], prompt)
    assert copy is not None and copy.kind == "answer" and copy.example == 2 and copy.similarity == 1.0
    assert "worked example 2" in copy.describe()
    swapped = examples[0][1].replace(humanise_label(pool.select("My card was stolen", "lost_or_stolen_card",
                                                                ["lost_or_stolen_card"])[0]["category"]),
                                     "Lost or stolen card")
    assert find_copy(swapped, prompt) is not None  # the template with only the category swapped is still a copy
    assert find_copy("Please freeze your card in the app now and order a replacement; we will refund any "
                     "transactions you did not make.", prompt) is None
    assert find_copy(examples[2][0], prompt).kind == "query"  # repeating an example's request
    plain = build_prompts(a, few_shot=False)["contextualised"]
    assert find_copy(examples[1][1], plain) is None  # no examples, nothing to copy


def test_japanese_copy_is_flagged():
    pool = ExamplePool(TEXTS, LABELS)
    a = _analysis("カードを盗まれました", "lost_or_stolen_card", [("lost_or_stolen_card", 0.9)])
    prompt = build_prompts(a, few_shot=True, examples=pool)["raw"]
    ans = worked_examples(prompt)[0][1]
    assert find_copy("はい。" + ans, prompt) is not None
    assert find_copy("カードの利用を停止しました。再発行の手続きをご案内します。", prompt) is None


@pytest.mark.shared
def test_banking77_compromised_card_prompt_names_only_banking77_categories(shared_data):
    """Issue 9, done when: train on banking77, ask about a compromised card."""
    data = load_labelled_queries(shared_data / "banking77" / "train.csv", "text", "category")
    clf = IntentClassifier().fit(data.texts, data.labels)
    pool = example_pool(data.texts, data.labels, clf)
    a = analyze_query("I think my card has been compromised, someone used it in another country.", clf, k=3)
    assert a.category == "compromised_card"
    assert a.urgency == "high" and "Compromised card" in a.urgency_reason
    readable = {humanise_label(lab) for lab in set(data.labels)}
    for few_shot in (False, True):
        text = build_prompts(a, few_shot=few_shot, examples=pool)["contextualised"].as_text()
        named = re.findall(r"Category: ([^(\n]+) \(", text)
        named += [x.strip() for line in re.findall(r"Other possible categories: (.*)", text)
                  for x in re.sub(r" \(\d+%\)", "", line).split(",")]
        assert named and set(named) <= readable, set(named) - readable
        assert "- Category: Compromised card (confidence" in text
        assert "Answer as a specialist for this category: Compromised card." in text
        prose = [line for line in text.splitlines() if not line.startswith("<query>")]
        assert not any(re.search(r"\b[a-z]+_[a-z_]+\b", line) for line in prose), "a raw label in prose"
        for bundled in ("Billing", "Technical", "Product info", "Refund", "Account", "Shipping"):
            assert f"Category: {bundled} (" not in text
    raw = build_prompts(a, few_shot=True, examples=pool)["raw"].as_text()
    assert "Category:" not in raw
