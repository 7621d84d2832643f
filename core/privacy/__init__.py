"""Personal data kept on this machine: find PII in a text and mask it before the text is sent anywhere.

``from core.privacy import mask_pii`` — see :mod:`core.privacy.pii`.
"""

from core.privacy.pii import (COMPREHEND_PII_LANGUAGES, LOCAL_TYPES, MASKS, ComprehendPiiDetector, MaskResult,
                              PiiEntity, find_pii, mask_entities, mask_pii, merge_entities)

__all__ = ["COMPREHEND_PII_LANGUAGES", "LOCAL_TYPES", "MASKS", "ComprehendPiiDetector", "MaskResult", "PiiEntity",
           "find_pii", "mask_entities", "mask_pii", "merge_entities"]
