"""Round trip for generated documents: whatever YAML a user writes, we lose nothing."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replication.versions import STREAM_KEYS
from replication.yamlio import emit, parse

# Text that YAML likes to misread: look-alikes of other types, indicators, spaces, unicode.
tricky = st.sampled_from(
    ["yes", "no", "null", "~", "1.0", "0x1F", "2024-01-01", "2006-01-02 15:04:05", "{x}", "- a", "a: b",
     "\n", "x\n\n", "# c", "'q'", '"d"', " lead", "trail ", "multi\nline\n", "tab\there", "é ✓", "",
     "*", "&a", "!tag", "%"]
)  # fmt: skip
text = st.one_of(tricky, st.text(max_size=12))
scalar = st.one_of(text, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
stream_config = st.one_of(
    st.none(),
    st.dictionaries(st.one_of(st.sampled_from(list(STREAM_KEYS)), text), value, max_size=5),
)
document = st.fixed_dictionaries(
    {"source": text, "target": text, "streams": st.dictionaries(text, stream_config, min_size=1, max_size=4)},
    optional={"defaults": stream_config, "env": st.dictionaries(text, value, max_size=3), "zz": value},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document)
def test_parse_then_emit_loses_nothing(data):
    source = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    emitted = emit(parse(source).replication)
    assert yaml.safe_load(emitted) == yaml.safe_load(source)
    assert emit(parse(emitted).replication) == emitted
