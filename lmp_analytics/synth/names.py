"""Invented Norwegian-looking names: municipalities, schools, pupils and harmless free text.

All names are made up from common place-name and personal-name parts; any match with a real
municipality, school or person is accidental. Every string is encodable in Windows-1252.
"""

from __future__ import annotations

import numpy as np

KOMMUNE_FIRST = (
    "Aust", "Vest", "Nord", "Sør", "Stor", "Lille", "Fjell", "Skog", "Elve", "Sjø", "Berg",
    "Bjørke", "Eike", "Furu", "Lyng", "Mo", "Ny", "Gamle", "Holm", "Øy", "Å", "Ås", "Dal", "Haug",
    "Li", "Myr", "Sand", "Stein", "Tind", "Ulv", "Ravne", "Svane", "Hvit", "Grøn", "Rød", "Blå",
    "Sol", "Vind", "Kvit", "Ørne",
)  # fmt: skip
KOMMUNE_LAST = (
    "vik", "dal", "fjord", "nes", "berg", "haug", "stad", "bø", "sund", "land", "vang", "øy",
    "mark", "rud", "heim", "set", "voll", "strand", "li", "by",
)  # fmt: skip

SCHOOL_PLACES = (
    "Nordby", "Åsen", "Haugen", "Bakken", "Lia", "Moen", "Vollen", "Sletta", "Engen", "Bråten",
    "Rud", "Tveit", "Berg", "Nes", "Holt", "Lunde", "Solberg", "Skogen", "Myra", "Strand", "Vika",
    "Dalen", "Brekke", "Furuly", "Granli", "Heia", "Kjelle", "Lien", "Marka", "Nygård", "Presteby",
    "Rosenvang", "Sandvoll", "Sjøbakken", "Stadion", "Storhaug", "Tunet", "Vestli", "Øvrebø",
    "Ådalen", "Bjørkeli", "Eikeland", "Fjellstad", "Gjerdrum", "Hoppestad", "Ilestad", "Jøa",
    "Kvamme", "Lyngheim", "Mjølan", "Nyhus", "Orrestad", "Rambekk", "Sætre", "Torvmyr",
    "Ulvestad", "Vassbotn", "Ørnes", "Kirkebakken", "Elvebakken",
)  # fmt: skip
SCHOOL_PREFIXES = ("", "Nordre ", "Søndre ", "Øvre ", "Nedre ", "Vestre ", "Østre ", "Nye ")

GIRL_NAMES = (
    "Nora", "Emma", "Ella", "Sofie", "Olivia", "Ada", "Sofia", "Frida", "Ingrid", "Leah", "Maja",
    "Astrid", "Selma", "Hedda", "Sara", "Tiril", "Ingeborg", "Amalie", "Thea", "Linnea", "Mathilde",
    "Vilde", "Hanna", "Jenny", "Aurora", "Sigrid", "Julie", "Live", "Oda", "Iben", "Solveig", "Åse",
)  # fmt: skip
BOY_NAMES = (
    "Jakob", "Emil", "Noah", "Oliver", "Filip", "William", "Lucas", "Liam", "Henrik", "Oskar",
    "Aksel", "Theodor", "Elias", "Kasper", "Magnus", "Johannes", "Isak", "Mathias", "Tobias",
    "Ludvig", "Sander", "Olav", "Håkon", "Sindre", "Jonas", "Even", "Vetle", "Øyvind", "Bjørn",
    "Eirik", "Mikkel", "Torstein",
)  # fmt: skip
SURNAME_FIRST = (
    "Bakke", "Strand", "Haug", "Lund", "Berg", "Dahl", "Moe", "Lie", "Holm", "Nygård", "Sæter",
    "Vik", "Brekke", "Rød", "Solheim", "Aas", "Eng", "Fjeld", "Myhre", "Tangen",
)  # fmt: skip
SURNAME_LAST = ("", "li", "vik", "rud", "land", "stad", "heim", "mo", "bø", "set", "nes", "dal")

FREE_TEXTS = (
    "Det er fint i friminuttene.",
    "Jeg liker gym og musikk.",
    "Vil ha mer tid ute.",
    "Bra, men litt bråkete i timene.",
    "Maten i kantina er god.",
    "Jeg gleder meg til turdagen.",
    "Liker å spille fotball i storefri.",
    "Kunne vært flere ting å gjøre ute, f.eks. huskestativ.",
    "Alt er greit.",
    "Læreren forklarer bra.",
    "Vil ha mer kunst og håndverk.",
    "Det er kaldt i klasserommet om morgenen.",
)


def kommune_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct invented municipality names."""
    combos = [f + last for f in KOMMUNE_FIRST for last in KOMMUNE_LAST]
    if n > len(combos):
        raise ValueError(f"cannot invent {n} distinct municipality names (max {len(combos)})")
    picked = rng.choice(len(combos), size=n, replace=False)
    return [_capitalise(combos[i]) for i in picked]


def _capitalise(name: str) -> str:
    return name[:1].upper() + name[1:]


def school_names(kinds: list[str], rng: np.random.Generator) -> list[str]:
    """Distinct school names for one municipality; ``kinds`` are the school types."""
    combos = [p + place for p in SCHOOL_PREFIXES for place in SCHOOL_PLACES]
    n = len(kinds)
    if n > len(combos):
        raise ValueError(f"cannot invent {n} distinct school names (max {len(combos)})")
    # Prefer bare place names; prefixed variants only when a municipality needs many schools.
    n_bare = len(SCHOOL_PLACES)
    order = list(rng.permutation(n_bare)) + list(n_bare + rng.permutation(len(combos) - n_bare))
    out = []
    for kind, i in zip(kinds, order[:n], strict=True):
        suffix = {"barneskole": " barneskole", "ungdomsskole": " ungdomsskole"}.get(kind, " skole")
        if kind == "barneskole" and rng.random() < 0.5:
            suffix = " skole"
        out.append(combos[i] + suffix)
    return out


def slug(text: str) -> str:
    """ASCII slug for file names and e-mail-like ids: ``Åsen skole`` -> ``asen-skole``."""
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
    out = text.translate(table).lower()
    out = "".join(ch if ch.isalnum() else "-" for ch in out)
    return "-".join(part for part in out.split("-") if part)
