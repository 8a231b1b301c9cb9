from __future__ import annotations

# dfix.compose is imported inside the functions: a run over Dockerfiles alone never loads it
from ..syntax import Edit
from ._compose import ComposeRule
from .base import Safety
from .base_image_pin import ImageRef, _overrides, _valid_pin, is_latest, shipped_table


class ComposeImagePin(ComposeRule):
    code = "DF702"
    name = "compose-image-pin"
    title = "a Compose service image without a tag, or :latest"
    safety = Safety.MIGRATION
    what = (
        "Pins a service's untagged or `:latest` `image:` to the tag it stood for on the date of DF401's "
        "table (`dfix/data/base_images.toml`; the `base-image-pins` config key comes first), as DF401 does "
        "for FROM. Images the table does not know are reported; images from a variable, and the `image:` of a "
        "service with `build:` (the name the build tags), are left alone."
    )
    why = (
        "`postgres` or `redis:latest` is whatever the registry holds on the day of `compose pull`: a new "
        "major version of the database arrives unannounced, and PostgreSQL's data folder does not open "
        "with the next major release."
    )
    example = ("services:\n  db:\n    image: postgres", "services:\n  db:\n    image: postgres:19-trixie")
    fix_safety = (
        "Migration: on the table's date the pinned tag names the image the floating one did; only the tag "
        "is written, inside the scalar's own quotes. Review the pin after the table's date."
    )

    def check(self, doc, ctx):
        from ..compose.document import kind, mapping_get

        overrides = _overrides(ctx.options.get("base_image_pins") or {})
        table = shipped_table()
        for service in doc.services.values():
            node = mapping_get(service.node, "image")
            if node is None or kind(node) != "scalar" or not isinstance(node.value, str):
                continue
            if "build" in service.model:
                continue  # with build:, image: names what the build tags, not what is pulled
            text = node.value
            if "$" in text:
                continue  # from the environment: pinned where the variable is set
            ref = ImageRef.parse(text)
            if not is_latest(ref):
                continue
            key = f"{ref.hub_name}:{ref.floating_tag}"
            pinned = overrides.get(key) or table.pin(ref.hub_name, ref.floating_tag)
            words = "untagged (latest)" if ref.tag is None else ":latest"
            message = f"{service.name}: image {text} is {words}"
            if pinned is None:
                reason = table.note(ref.hub_name) or f"no pin known for {ref.name}; add one under base-image-pins in .dfix.toml or [tool.dfix]"
                yield self.at(doc, node, message, reason=reason)
                continue
            if not _valid_pin(pinned):
                yield self.at(doc, node, message, reason=f"the pin for {key} is not a tag: {pinned!r}")
                continue
            raw = doc.text[node.start_mark.index:node.end_mark.index]
            offset = raw.find(text)
            if doc.is_shared(node) or offset < 0 or node.style in ("|", ">"):
                yield self.at(doc, node, message, reason="the image is written through an anchor or over lines")
                continue
            start = node.start_mark.index + offset
            lo, hi = ref.tag_span
            new = pinned if ref.tag is not None else f":{pinned}"
            source = "from the base-image-pins config" if key in overrides else f"what {key} meant on {table.date}"
            yield self.at(doc, node, f"{message}: pinned to {ref.name}:{pinned} ({source})",
                          [Edit(start + lo, start + hi, new)], paths=[("services", service.name, "image")])
