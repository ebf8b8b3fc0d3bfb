"""Synthetic LMP world with known truth: roster, phases, Spekter exports, Elevundersøkelsen.

Real Spekter microdata cannot be public, so tests, demos and benchmarks run on a simulated world
whose planted effects are recorded. ``write_world(out_dir)`` writes::

    program.csv            roster (kommunenummer;kommune;skole_orgnr;skole;rolle;pulje;oppstart)
    faser.csv              local adaptations (skole_orgnr;fase;termin)
    elevtall.csv           enrolment per school, school year and trinn (3-10)
    elevundersokelsen.csv  Udir statistics-bank format, 7th and 10th grade, Mobbing på skolen
    elevundersokelsen_skoler.csv  the same layout, school rows of the whole synthetic country
                           (world + non-participants), 2016-2025, '*' below 10 answers
    spekter/               one export per school and round: ';' Windows-1252 CSV, ',' UTF-8-BOM
                           CSV or XLSX, named <term>_<orgnr>_<school>[_mistanke].<ext>
    truth.json             every parameter, calibration, per-school effects and phases, planted
                           ORs, expected prevalence per group and term, planted errors

Modules: :mod:`params` (every realism parameter), :mod:`world` (schools, selection, phases;
built from :mod:`ids`, :mod:`model`, :mod:`places`, :mod:`rounds`, :mod:`pupils`),
:mod:`responses` (answer model, calibration), :mod:`exports` (a round as a table), :mod:`writers`
(file formats), :mod:`faults` (planted errors), :mod:`country` (the country in
Elevundersøkelsen and the selection rule), :mod:`generate` (writes it all, with
:mod:`prevalence`, :mod:`roster_files`, :mod:`eus_files` and :mod:`truth_file`).
"""

from lmp_analytics.synth.generate import WorldSummary, write_world
from lmp_analytics.synth.params import Params

__all__ = ["Params", "WorldSummary", "write_world"]
