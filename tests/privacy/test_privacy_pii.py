"""PII masking: the held set of strings (tests/data/pii_cases.csv), offsets, masks, and Comprehend via Stubber."""

from __future__ import annotations

from pathlib import Path

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from core.errors import DataError, ProviderError
from core.privacy import ComprehendPiiDetector, find_pii, mask_pii, merge_entities
from core.privacy.pii import PiiEntity

CASES = pd.read_csv(Path(__file__).parents[1].joinpath("data") / "pii_cases.csv", keep_default_na=False)


@pytest.mark.parametrize("text,language,expected,note", CASES.values.tolist(), ids=CASES["note"].tolist())
def test_held_set(text, language, expected, note):
    got = [e.type for e in find_pii(text, language=language)]
    assert got == [t for t in expected.split(";") if t], note


def test_held_set_covers_every_local_type_and_negatives():
    types = {t for e in CASES["expected"] for t in e.split(";") if t}
    assert types == {"EMAIL", "PHONE", "CREDIT_DEBIT_NUMBER", "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "JP_MY_NUMBER",
                     "JP_POSTAL_CODE"}
    assert (CASES["expected"] == "").sum() >= 10  # strings that must stay untouched
    assert set(CASES["language"]) == {"en", "ja"}


def test_email_and_card_are_masked_and_never_kept():
    q = "My card 4111 1111 1111 1111 was used twice, write to jane.doe@example.com please."
    r = mask_pii(q)
    assert r.text == "My card [CARD_NUMBER] was used twice, write to [EMAIL] please."
    assert r.counts == {"CREDIT_DEBIT_NUMBER": 1, "EMAIL": 1} and r.n_masked == 2
    assert r.summary() == "2 items masked: 1 card number, 1 email address"
    dumped = str(r.to_dict())
    assert "4111 1111 1111 1111" not in dumped and "jane.doe@example.com" not in dumped
    assert [e.preview for e in r.entities] == ["…1111", "j…@example.com"]


def test_offsets_refer_to_the_original_full_width_text():
    q = "電話は０９０－１２３４－５６７８、メールはｔａｒｏ＠example.jpです。"
    ents = find_pii(q)
    assert [e.type for e in ents] == ["PHONE", "EMAIL"]
    assert q[ents[0].begin:ents[0].end] == "０９０－１２３４－５６７８"
    assert q[ents[1].begin:ents[1].end] == "ｔａｒｏ＠example.jp"
    assert mask_pii(q).text == "電話は[PHONE]、メールは[EMAIL]です。"


def test_katakana_long_vowel_is_a_hyphen_only_between_digits():
    assert mask_pii("マイナンバーは1234ー5678ー9012です").text == "マイナンバーは[MY_NUMBER]です"
    assert mask_pii("メールアドレスを変更したい").n_masked == 0


def test_merge_keeps_the_union_with_the_higher_priority_type():
    a = PiiEntity("PHONE", 5, 20, 0.7)
    b = PiiEntity("CREDIT_DEBIT_NUMBER", 3, 18, 1.0)
    c = PiiEntity("NAME", 30, 34, 0.9, "comprehend")
    merged = merge_entities([a, b, c])
    assert [(e.type, e.begin, e.end) for e in merged] == [("CREDIT_DEBIT_NUMBER", 3, 20), ("NAME", 30, 34)]


def _stubbed():
    client = boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def test_comprehend_adds_names_and_addresses_and_skips_dates():
    text = "Hi, I'm John Smith from 12 High Street, my card 4111 1111 1111 1111 failed on Monday."
    client, stub = _stubbed()
    stub.add_response("detect_pii_entities", {"Entities": [
        {"Score": 0.99, "Type": "NAME", "BeginOffset": 8, "EndOffset": 18},
        {"Score": 0.95, "Type": "ADDRESS", "BeginOffset": 24, "EndOffset": 38},
        {"Score": 0.99, "Type": "CREDIT_DEBIT_NUMBER", "BeginOffset": 48, "EndOffset": 67},
        {"Score": 0.90, "Type": "DATE_TIME", "BeginOffset": 78, "EndOffset": 84},
        {"Score": 0.30, "Type": "AGE", "BeginOffset": 0, "EndOffset": 2},
    ]}, {"Text": text, "LanguageCode": "en"})
    with stub:
        r = mask_pii(text, comprehend=ComprehendPiiDetector(client=client))
        stub.assert_no_pending_responses()
    assert r.text == "Hi, I'm [NAME] from [ADDRESS], my card [CARD_NUMBER] failed on Monday."
    assert r.counts == {"NAME": 1, "ADDRESS": 1, "CREDIT_DEBIT_NUMBER": 1}
    card = r.entities[2]
    assert card.source == "local+comprehend" and card.score == 1.0
    assert r.entities[0].source == "comprehend" and r.entities[0].preview == "…th"


def test_comprehend_is_not_called_for_japanese():
    client, stub = _stubbed()
    with stub:  # no response queued: any call would fail
        r = mask_pii("山田です。電話は090-1234-5678です。", comprehend=ComprehendPiiDetector(client=client))
    assert r.text == "山田です。電話は[PHONE]です。"
    assert "English and Spanish only" in r.notes[0]
    with pytest.raises(DataError, match="en, es only"):
        ComprehendPiiDetector(client=client).detect("こんにちは", "ja")


def test_comprehend_access_denied_says_which_permission():
    client, stub = _stubbed()
    stub.add_client_error("detect_pii_entities", service_error_code="AccessDeniedException",
                          service_message="User is not authorized", http_status_code=400)
    with stub, pytest.raises(ProviderError, match="comprehend:DetectPiiEntities") as exc:
        mask_pii("My email is a@b.io and I need help with my account.", language="en",
                 comprehend=ComprehendPiiDetector(client=client))
    assert exc.value.code == "AccessDeniedException"


def test_comprehend_throttling_is_translated():
    client, stub = _stubbed()
    stub.add_client_error("detect_pii_entities", service_error_code="ThrottlingException", http_status_code=400)
    with stub, pytest.raises(ProviderError, match="throttling") as exc:
        ComprehendPiiDetector(client=client).detect("hello there, my name is Ann", "en")
    assert exc.value.retryable
