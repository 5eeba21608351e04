"""User-facing content kept as data: fixed replies, hotlines and support services (R4, R7, R11, R13, R18).

Trainers edit `data/replies.yml`, `data/hotlines.yml`, `data/services.yml` and `data/waiting.yml`; this module is the
only reader (waiting.yml through `domain.waiting`) and validates them on load, so a typo fails at start-up with the
file and key named instead of reaching a user.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from handoff.domain.datafile import ContentError, field_phone, field_text, read_yaml
from handoff.domain.eligibility import MUNICIPALITIES, OUTSIDE
from handoff.domain.hotlines import Hotline, load_hotlines
from handoff.domain.referral import ReferralRules
from handoff.domain.survey import SurveyTexts
from handoff.domain.waiting import WaitingTexts
from handoff.line.messages import MAX_TEXT

# Placeholders the gateway must pass for each reply. `hotlines` and `emergency` come from hotlines.yml and are
# filled in automatically, so every reply may use them.
REPLY_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "media_refused": frozenset(),
    "location_refused": frozenset(),
    "sticker": frozenset(),
    "sticker_sad": frozenset(),
    "sticker_neutral": frozenset(),
    "received_ack": frozenset(),
    "bot_back": frozenset(),
    "queued": frozenset({"position"}),
    "all_busy": frozenset({"position"}),
    "in_hours_handoff": frozenset(),
    "off_hours": frozenset({"next_open", "hotlines"}),
    "crisis": frozenset({"emergency", "hotlines"}),
    "crisis_off_hours": frozenset({"emergency", "hotlines", "next_open"}),
    "crisis_service_closed": frozenset({"emergency", "hotlines"}),
    "emergency_other": frozenset(),
    "concern_queued": frozenset(),
    "nlu_crisis_unsure": frozenset(),
    "service_closed": frozenset(),
    "resolved": frozenset(),
    "eligibility_refer_outside": frozenset({"services"}),
    "eligibility_refer_age": frozenset({"services"}),
    "eligibility_refer_again": frozenset({"name"}),
    "referral_start": frozenset({"name"}),
    "group_leave": frozenset(),
}
AUTO_PLACEHOLDERS = frozenset({"hotlines", "emergency"})


@dataclass(frozen=True)
class Service:
    kind: str
    name: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None
    note: str | None = None


def chat_lines_text(hotlines: list[Hotline]) -> str:
    """The lines by chat, for someone who cannot phone: 「あなたのいばしょチャット相談（文字で・24時間・毎日） https://…」."""
    return " / ".join(f"{h.name}（{h.hours}） {h.url}" for h in hotlines if h.kind == "chat")


class Content:
    """Validated replies, hotlines and services; build once with `Content.load(data_dir)` and share."""

    def __init__(
        self,
        replies: dict[str, str],
        hotlines: list[Hotline],
        services: dict[str, list[Service]],
        referral: ReferralRules,
        waiting: WaitingTexts,
        survey: SurveyTexts,
    ) -> None:
        self._replies = dict(replies)
        self._hotlines = tuple(hotlines)
        self._services = {m: tuple(items) for m, items in services.items()}
        self._referral = referral
        self.waiting = waiting
        self.survey = survey

    @classmethod
    def load(cls, data_dir: Path | str) -> Content:
        data_dir = Path(data_dir)
        services_path = data_dir / "services.yml"
        services = _load_services(services_path)
        hotlines = load_hotlines(data_dir / "hotlines.yml")
        content = cls(
            _load_replies(data_dir / "replies.yml"),
            hotlines,
            services,
            _load_referral(services_path, services),
            WaitingTexts.load(data_dir / "waiting.yml", chat=chat_lines_text(hotlines)),
            SurveyTexts.load(data_dir / "survey.yml"),
        )
        unknown = [key for key, _ in content.waiting.stickers if key not in content._replies]
        if unknown:
            raise ContentError(f"{data_dir / 'waiting.yml'}: stickers name replies that do not exist: {unknown}")
        # Render every reply once, so an over-long or broken text fails at start-up, not in front of a user.
        sample = {"position": 3, "next_open": "11月25日(水) 11:00", "services": content.services_text("金沢市"),
                  "name": "金沢市のこども家庭センター"}
        for key in content.reply_keys():
            text = content.reply(key, **sample)
            if len(text) > MAX_TEXT:
                raise ContentError(f"{data_dir / 'replies.yml'}: {key} is longer than {MAX_TEXT} characters")
        return content

    def reply_keys(self) -> list[str]:
        return list(self._replies)

    def reply(self, key: str, **values: object) -> str:
        """Render a reply. KeyError for an unknown key; ValueError when a placeholder has no value."""
        try:
            template = self._replies[key]
        except KeyError:
            raise KeyError(f"no reply {key!r} in replies.yml") from None
        fields = _placeholders(template, key)
        auto = {"hotlines": self.hotlines_text, "emergency": self.emergency_text}
        filled = {
            name: values[name] if name in values else auto[name]() for name in fields if name in values or name in auto
        }
        missing = sorted(fields - set(filled))
        if missing:
            raise ValueError(f"reply {key!r} needs a value for {', '.join(missing)}")
        return template.format_map(filled)

    def hotlines(self, only_24h: bool = False, *, emergency: bool = True) -> list[Hotline]:
        """Hotlines in file order; `emergency=False` leaves out 110/119 (shown separately in a crisis)."""
        return [h for h in self._hotlines if (h.is_24h or not only_24h) and (emergency or h.kind != "emergency")]

    def hotlines_text(self, only_24h: bool = True, *, emergency: bool = False) -> str:
        """Bulleted lines for a LINE message, e.g. 「・よりそいホットライン 0120-279-338（24時間・毎日・無料）」."""
        lines = []
        for h in self.hotlines(only_24h, emergency=emergency):
            extra = "・無料" if h.free and h.kind != "emergency" else ""
            if h.kind == "chat":  # the address on its own line, so LINE makes all of it a link
                lines.append(f"・{h.name}（{h.hours}{extra}）\n  {h.url}")
            else:
                lines.append(f"・{h.name} {h.number}（{h.hours}{extra}）")
        return "\n".join(lines)

    def emergency_text(self) -> str:
        """The 110/119 lines, e.g. 「・警察 110」."""
        return "\n".join(f"・{h.name} {h.number}" for h in self._hotlines if h.kind == "emergency")

    def municipalities(self) -> list[str]:
        """Ishikawa's 19 municipalities in the usual order, then 県外."""
        return list(MUNICIPALITIES)

    def services(self, municipality: str) -> list[Service]:
        try:
            return list(self._services[municipality])
        except KeyError:
            raise KeyError(
                f"unknown municipality {municipality!r}; expected one of {', '.join(MUNICIPALITIES)}"
            ) from None

    def referral(self, profile: Mapping[str, object], municipality: str | None = None) -> list[Service]:
        """At most three services that fit the person, the one to try first first (R7).

        The needs of whom they care for come first (an elderly parent → 地域包括支援センター), then what fits who
        they are (a child, a guardian, an adult), as services.yml's `referral` says. `municipality` overrides the
        profile's (「輪島市だとどこ？」); with neither, the 県外 list, which names windows anywhere in Japan.
        """
        place = municipality or str(profile.get("municipality") or "") or OUTSIDE
        return self._referral.choose(profile, self.services(place))

    def referral_text(self, profile: Mapping[str, object], municipality: str | None = None) -> str:
        """「まずはここ」 with the first service's name, then the short list with how to reach each."""
        chosen = self.referral(profile, municipality)
        return self.reply("referral_start", name=chosen[0].name) + "\n" + self._bullets(chosen)

    def services_text(self, municipality: str) -> str:
        """Bulleted services for a referral message, phone and hours on a second line when known."""
        return self._bullets(self.services(municipality))

    def _bullets(self, services: list[Service]) -> str:
        blocks = []
        for s in services:
            lines = [f"・{s.name}"]
            contact = " ／ ".join(
                part
                for part in (
                    f"電話 {s.phone}" if s.phone else "",
                    f"受付 {s.hours}" if s.hours else "",
                    s.url or "",
                )
                if part
            )
            if contact:
                lines.append(f"　{contact}")
            if s.note:
                lines.append(f"　{s.note}")
            blocks.append("\n".join(lines))
        return "\n".join(blocks)


def _placeholders(template: str, where: str) -> frozenset[str]:
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ContentError(f"{where}: broken braces ({exc}); write {{{{ or }}}} for a literal brace") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ContentError(f"{where}: placeholder {{{name}}} must be a plain name like {{position}}")
        names.add(name)
    return frozenset(names)


def _braced(names: frozenset[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))


def _load_replies(path: Path) -> dict[str, str]:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: expected key: text pairs")
    missing = sorted(set(REPLY_PLACEHOLDERS) - set(raw))
    if missing:
        raise ContentError(f"{path}: missing replies: {', '.join(missing)}")
    replies: dict[str, str] = {}
    for key, text in raw.items():
        where = f"{path}: {key}"
        if not isinstance(text, str) or not text.strip():
            raise ContentError(f"{where}: expected non-empty text")
        found = _placeholders(text, where)
        required = REPLY_PLACEHOLDERS.get(key)
        if required is not None:
            if required - found:
                raise ContentError(f"{where}: must contain {_braced(required - found)}")
            unknown = found - required - AUTO_PLACEHOLDERS
            if unknown:
                raise ContentError(f"{where}: unknown placeholder {_braced(unknown)}")
        replies[str(key)] = text.strip()
    return replies


def _service(entry: object, where: str, **fill: str) -> Service:
    if not isinstance(entry, dict):
        raise ContentError(f"{where}: expected a mapping with kind and name")
    unknown = set(entry) - {"kind", "name", "phone", "url", "hours", "note"}
    if unknown:
        raise ContentError(f"{where}: unknown fields {', '.join(sorted(unknown))}")

    def text(name: str, required: bool = False) -> str | None:
        value = field_text(entry, name, where, required)
        if value is None:
            return None
        try:
            return value.format(**fill) if fill else value
        except (KeyError, ValueError, IndexError) as exc:
            raise ContentError(f"{where}: `{name}` may only use {{municipality}} and {{office}} ({exc})") from None

    url = text("url")
    if url and not url.startswith("https://"):
        raise ContentError(f"{where}: url must start with https://")
    return Service(
        kind=text("kind", True) or "",
        name=text("name", True) or "",
        phone=field_phone(entry, "phone", where, required=False),
        url=url,
        hours=text("hours"),
        note=text("note"),
    )


def _load_referral(path: Path, services: dict[str, list[Service]]) -> ReferralRules:
    try:
        return ReferralRules.from_mapping((read_yaml(path) or {}).get("referral"), services)
    except ValueError as exc:
        raise ContentError(f"{path}: {exc}") from None


def _load_services(path: Path) -> dict[str, list[Service]]:
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("municipalities"), dict):
        raise ContentError(f"{path}: expected `municipalities:` with one entry per municipality")
    places = raw["municipalities"]
    missing = [m for m in MUNICIPALITIES if m not in places]
    unknown = [m for m in places if m not in MUNICIPALITIES]
    if missing or unknown:
        raise ContentError(f"{path}: municipalities missing: {missing or 'none'}; unknown: {unknown or 'none'}")
    centres = raw.get("child_guidance_centres") or {}
    templates = raw.get("templates") or []
    common = [_service(e, f"{path}: common[{i}]") for i, e in enumerate(raw.get("common") or [])]
    services: dict[str, list[Service]] = {}
    for name in MUNICIPALITIES:
        entry = places[name] or {}
        where = f"{path}: municipalities.{name}"
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: expected a mapping")
        items = [_service(e, f"{where}.items[{i}]") for i, e in enumerate(entry.get("items") or [])]
        if entry.get("templates", True):
            office = "市役所" if name.endswith("市") else "町役場"
            items += [
                _service(t, f"{path}: templates[{i}]", municipality=name, office=office)
                for i, t in enumerate(templates)
            ]
        centre = entry.get("child_guidance")
        if centre is not None:
            if centre not in centres:
                raise ContentError(f"{where}: child_guidance {centre!r} is not in child_guidance_centres")
            items.append(_service(centres[centre], f"{path}: child_guidance_centres.{centre}"))
        items += common
        if not items:
            raise ContentError(f"{where}: no services")
        services[name] = items
    return services
