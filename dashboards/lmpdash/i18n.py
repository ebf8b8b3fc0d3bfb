"""UI text in bokmål (default) and English, and number/term formatting per language.

Every label a user sees goes through :func:`t`; every number through the ``fmt_*`` helpers, so
the English switch changes every label, number format and axis.
"""

from __future__ import annotations

import math

LANGS = ("nb", "en")
DASH = "–"
MINUS = "−"

_TEXT: dict[str, tuple[str, str]] = {
    # app frame
    "app_title": ("Læringsmiljøprosjektet – resultater", "Learning Environment Project – results"),
    "language": ("Språk", "Language"),
    "role": ("Rolle", "Role"),
    "demo_banner": (
        "**Demomodus.** Ingen innlogging er satt opp, så dashbordet kjører bare på denne "
        "maskinen (127.0.0.1), og du kan velge rolle fritt for å se hva hver rolle får se. "
        "Tallene er syntetiske med mindre en ekte database er valgt.",
        "**Demo mode.** No login is configured, so the dashboard runs only on this machine "
        "(127.0.0.1) and you can pick any role to see what each role may see. The numbers are "
        "synthetic unless a real warehouse is selected.",
    ),
    "demo_public_refused": (
        "Uten innlogging kan dashbordet bare kjøres på 127.0.0.1. Sett opp innlogging "
        "(se dashboards/README.md) før det gjøres tilgjengelig for andre.",
        "Without login the dashboard may only run on 127.0.0.1. Configure login (see "
        "dashboards/README.md) before making it available to others.",
    ),
    "signed_in_as": ("Innlogget som {email}", "Signed in as {email}"),
    "your_role": ("Din tilgang: {role}", "Your access: {role}"),
    "logout": ("Logg ut", "Log out"),
    "login_title": ("Logg inn", "Sign in"),
    "login_text": (
        "Resultatene er bare for dem som har fått tilgang. Logg inn med kontoen din.",
        "The results are for authorised users only. Sign in with your account.",
    ),
    "login_button": ("Logg inn", "Sign in"),
    "login_unavailable": (
        "Innloggingen kunne ikke startes. Den som drifter dashbordet, finner årsaken i loggen.",
        "Sign-in could not be started. Whoever runs the dashboard will find the cause in the "
        "log.",
    ),
    "no_role_title": ("Du har ikke tilgang ennå", "You do not have access yet"),
    "no_role_text": (
        "Du er logget inn som **{email}**, men denne adressen har ingen rolle i dashbordet. "
        "Ta kontakt med den som administrerer Læringsmiljøprosjektet i din kommune eller hos "
        "Læringsmiljøsenteret for å få tilgang.",
        "You are signed in as **{email}**, but this address has no role in the dashboard. "
        "Please contact whoever administers the Learning Environment Project in your "
        "municipality or at the Norwegian Centre for Learning Environment to get access.",
    ),
    "role_config_error": (
        "Rollekonfigurasjonen kan ikke leses, så ingen får tilgang før den er rettet.",
        "The role configuration cannot be read, so nobody gets access until it is fixed.",
    ),
    "secrets_error": (
        "Innloggingsoppsettet (.streamlit/secrets.toml) kan ikke leses. Dashbordet viser "
        "ingen tall før det er rettet.",
        "The login configuration (.streamlit/secrets.toml) cannot be read. The dashboard "
        "shows no numbers until it is fixed.",
    ),
    "error_generic": (
        "Noe gikk galt da siden skulle vises. Prøv igjen om litt. Feilen er logget.",
        "Something went wrong while showing this page. Please try again shortly. The error "
        "has been logged.",
    ),
    "empty_warehouse": (
        "Det finnes ingen data ennå. Når Spekter-filer er lest inn med `lmp ingest` "
        "(eller `lmp demo` for syntetiske data), vises resultatene her uten omstart.",
        "There is no data yet. Once Spekter files are loaded with `lmp ingest` (or `lmp demo` "
        "for synthetic data), the results appear here without a restart.",
    ),
    "empty_scope": (
        "Det finnes ingen data for skolene du har tilgang til ennå.",
        "There is no data yet for the schools you have access to.",
    ),
    "data_as_of": ("Data publisert {when}", "Data published {when}"),
    "refresh_note": (
        "Nye data vises automatisk når en ny innlesing er publisert.",
        "New data appears automatically when a new ingest is published.",
    ),
    # roles
    "role_program": ("Programeier (alle skoler)", "Programme owner (all schools)"),
    "role_forsker": ("Forsker (aggregerte tall)", "Researcher (aggregated numbers)"),
    "role_kommune": ("Kommune {name}", "Municipality {name}"),
    "role_veileder": ("Veileder for {names}", "Supervisor for {names}"),
    # pages
    "page_oversikt": ("Oversikt", "Overview"),
    "page_skole": ("Skole", "School"),
    "page_faser": ("Faser", "Phases"),
    "page_sammenligning": ("Sammenligning", "Comparison"),
    "page_datakvalitet": ("Datakvalitet", "Data quality"),
    "page_om": ("Om tallene", "About the numbers"),
    # common widgets and labels
    "indicator": ("Indikator", "Indicator"),
    "school": ("Skole", "School"),
    "schools": ("Skoler", "Schools"),
    "kommune": ("Kommune", "Municipality"),
    "unit": ("Enhet", "Unit"),
    "level": ("Nivå", "Level"),
    "name": ("Navn", "Name"),
    "whole_programme": ("Hele programmet", "Whole programme"),
    "term": ("Termin", "Term"),
    "round": ("Runde", "Round"),
    "value": ("Verdi", "Value"),
    "interval": ("95 % KI", "95% CI"),
    "ci_low": ("KI nedre", "CI lower"),
    "ci_high": ("KI øvre", "CI upper"),
    "n": ("Antall svar", "Responses"),
    "n_schools": ("Antall skoler", "Schools"),
    "rolle": ("Skoletype", "School type"),
    "deltaker_one": ("LMP-skole", "LMP school"),
    "sammenligning_one": ("Sammenligningsskole", "Comparison school"),
    "pulje": ("Pulje", "Cohort"),
    "deltaker": ("LMP-skoler", "LMP schools"),
    "sammenligning": ("Sammenligningsskoler", "Comparison schools"),
    "nasjonalt": ("Nasjonalt", "National"),
    "series": ("Serie", "Series"),
    "hidden": ("skjult", "hidden"),
    "hidden_col": ("Skjult", "Hidden"),
    "not_measured": ("ikke målt", "not measured"),
    "table_alt": ("Vis som tabell", "Show as table"),
    "download_csv": ("Last ned CSV", "Download CSV"),
    "trend": ("Utvikling", "Trend"),
    "suppression_caption": (
        "Celler med færre enn {min_n} svar er skjult («skjult»), og noen celler er skjult i "
        "tillegg så de skjulte tallene ikke kan regnes ut.",
        "Cells with fewer than {min_n} responses are hidden ('hidden'), and some further "
        "cells are hidden so the hidden numbers cannot be worked out.",
    ),
    "no_rows": ("Ingen tall å vise her.", "No numbers to show here."),
    "trinn": ("Trinn", "Grade"),
    "kjonn": ("Kjønn", "Gender"),
    "jente": ("Jenter", "Girls"),
    "gutt": ("Gutter", "Boys"),
    "annet": ("Annet", "Other"),
    "ukjent": ("Ukjent", "Unknown"),
    "grade_n": ("{n}. trinn", "Grade {n}"),
    "vg_n": ("Vg{n}", "Upper sec. {n}"),
    "autumn": ("Høst", "Autumn"),
    "spring": ("Vår", "Spring"),
    "phase": ("Fase", "Phase"),
    "phase_n": ("Fase {k}", "Phase {k}"),
    "programme_span": ("Hele programmet (før fase 1 → etter fase 4)",
                       "Whole programme (before phase 1 → after phase 4)"),
    "yes": ("ja", "yes"),
    "no": ("nei", "no"),
    "axis_share": ("Andel elever", "Share of pupils"),
    "axis_mean": ("Gjennomsnitt (1–5)", "Mean (1–5)"),
    "axis_change_pp": ("Endring (prosentpoeng)", "Change (percentage points)"),
    "axis_change_mean": ("Endring (skalapoeng)", "Change (scale points)"),
    "axis_terms_since": ("Terminer siden start (0 = første runde etter fase 1)",
                         "Terms since start (0 = first round after phase 1)"),
    "axis_effect_pp": ("Anslått virkning (prosentpoeng)", "Estimated effect (percentage points)"),
    "axis_effect_mean": ("Anslått virkning (skalapoeng)", "Estimated effect (scale points)"),
    "axis_rate": ("Svarprosent", "Response rate"),
    "axis_skipped": ("Andel ubesvarte spørsmål", "Share of items left blank"),
    "axis_rows": ("Rader i karantene", "Quarantined rows"),
    # Oversikt
    "ov_title": ("Oversikt", "Overview"),
    "ov_intro": (
        "Hovedindikatoren per skole og termin, LMP-skoler mot sammenligningsskoler og "
        "landet, og hvilke skoler som kan trenge oppfølging.",
        "The headline indicator per school and term, LMP schools against comparison schools "
        "and the country, and which schools may need attention.",
    ),
    "ov_scope": ("Vis", "Show"),
    "ov_headline_part": ("LMP-skoler, siste termin", "LMP schools, latest term"),
    "ov_headline_comp": ("Sammenligningsskoler, siste termin", "Comparison schools, latest term"),
    "ov_headline_nat": ("Nasjonalt (Elevundersøkelsen)", "National (Pupil Survey)"),
    "ov_table_title": ("Per skole og termin", "Per school and term"),
    "ov_multiples_title": ("Hver skole over tid", "Each school over time"),
    "ov_compare_title": ("LMP-skoler, sammenligningsskoler og landet",
                         "LMP schools, comparison schools and the country"),
    "ov_compare_caption": (
        "Linjene er samlede andeler for alle skolene i gruppen, med 95 % konfidensintervall "
        "som bånd. Nasjonale tall er Elevundersøkelsens «Mobbing på skolen» (7. og 10. trinn, "
        "bare høst) og måler ikke helt det samme som Spekter.",
        "Lines are pooled shares over all schools in the group, with the 95% confidence "
        "interval as a band. National figures are the Pupil Survey's 'Bullying at school' "
        "(grades 7 and 10, autumn only) and do not measure exactly the same as Spekter.",
    ),
    "ov_attention_title": ("Hvilke skoler bør følges opp?", "Which schools need attention?"),
    "ov_attention_caption": (
        "Rangert etter hvor tydelig tallene peker på et problem, ut fra konfidensintervallene – "
        "ikke etter punktanslaget alene. En skole får ett tegn når hele intervallet ligger på "
        "feil side av referansen (sammenligningsskolene samme termin), og ett tegn når "
        "endringen siden forrige runde er en tydelig forverring. Innen samme antall tegn "
        "rangeres skolene etter hvor langt intervallets nærmeste ende ligger fra referansen.",
        "Ranked by how clearly the numbers point to a problem, read off the confidence "
        "intervals – not by the point estimate alone. A school gets one signal when its whole "
        "interval lies on the bad side of the reference (comparison schools in the same term), "
        "and one when the change since the previous round is a clear worsening. Within the "
        "same number of signals, schools are ordered by how far the near end of the interval "
        "lies from the reference.",
    ),
    "att_rank": ("Rang", "Rank"),
    "att_signals": ("Tegn", "Signals"),
    "att_above": ("Tydelig over referansen", "Clearly above the reference"),
    "att_below": ("Tydelig under referansen", "Clearly below the reference"),
    "att_worse": ("Tydelig forverring siden forrige runde", "Clear worsening since last round"),
    "att_reference": ("Referanse", "Reference"),
    "att_change": ("Endring siden forrige runde", "Change since last round"),
    "att_none": ("Ingen tydelige tegn", "No clear signals"),
    # Skole
    "sk_title": ("Skole", "School"),
    "sk_pick": ("Velg skole", "Choose school"),
    "sk_not_available": (
        "Skolen i lenken finnes ikke eller er utenfor det du har tilgang til. Velg en skole i "
        "listen.",
        "The school in the link does not exist or is outside your access. Choose a school "
        "from the list.",
    ),
    "sk_no_schools": ("Du har ikke tilgang til noen skoler.", "You have no access to any school."),
    "sk_no_rounds": (
        "{school} har ingen Spekter-runder i databasen ennå.",
        "{school} has no Spekter rounds in the warehouse yet.",
    ),
    "sk_facts": ("{kommune} · {rolle} · pulje {pulje} · oppstart {oppstart}",
                 "{kommune} · {rolle} · cohort {pulje} · start {oppstart}"),
    "sk_facts_comp": ("{kommune} · sammenligningsskole", "{kommune} · comparison school"),
    "sk_time_title": ("Over tid, med fasene skyggelagt", "Over time, with the phases shaded"),
    "sk_time_caption": (
        "Punktene er skolens verdi i hver runde med 95 % konfidensintervall. Skyggene viser "
        "terminene der skolen var i fase 1–4. En runde tidlig i en termin viser situasjonen "
        "før fasen i samme termin.",
        "Points are the school's value in each round with its 95% confidence interval. The "
        "shading shows the terms in which the school was in phases 1–4. A round early in a "
        "term shows the situation before that term's phase.",
    ),
    "sk_all_title": ("Alle indikatorer", "All indicators"),
    "sk_report_title": ("Skolerapport", "School report"),
    "sk_report_help": (
        "Den samme rapporten som `lmp report` lager: 2–4 sider med tall som har gått gjennom "
        "skjermingen og rollen din. Nedlastingen blir logget.",
        "The same report that `lmp report` makes: 2–4 pages of numbers that have been through "
        "suppression and your role. The download is logged.",
    ),
    "sk_report_make": ("Lag rapport (PDF)", "Make report (PDF)"),
    "sk_report_download": ("Last ned rapport", "Download report"),
    "sk_report_failed": ("Rapporten kunne ikke lages akkurat nå. Prøv igjen senere.",
                         "The report could not be made right now. Please try again later."),
    "sk_breakdown_title": ("Etter trinn og kjønn", "By grade and gender"),
    "sk_breakdown_round": ("Runde", "Round"),
    "sk_changed_title": ("Hva har endret seg siden forrige runde?",
                         "What changed since the previous round?"),
    "sk_changed_none": ("Skolen har bare én runde, så det er ingen endring å vise ennå.",
                        "The school has only one round, so there is no change to show yet."),
    "sk_changed_line": (
        "{indicator}: {pre} i {pre_term} → {post} i {post_term}; endring {diff} "
        "(95 % KI {lo} til {hi}) – **{verdict}**.",
        "{indicator}: {pre} in {pre_term} → {post} in {post_term}; change {diff} "
        "(95% CI {lo} to {hi}) – **{verdict}**.",
    ),
    "sk_changed_hidden": (
        "{indicator}: endringen er skjult fordi en av rundene har for få svar eller er skjult.",
        "{indicator}: the change is hidden because one of the rounds has too few responses or "
        "is hidden.",
    ),
    "sk_changed_untested": (
        "{indicator}: for få svar til å teste endringen.",
        "{indicator}: too few responses to test the change.",
    ),
    "phases_table": ("Fasekalender", "Phase calendar"),
    "source_faser": ("lokal tilpasning", "local adaptation"),
    "source_program": ("etter oppstart", "from start term"),
    # Faser
    "fa_title": ("Før og etter hver fase", "Before and after each phase"),
    "fa_intro": (
        "For hver skole sammenlignes runden før fasen (pre) med runden etter (post). "
        "Pre = skolens første runde i fasens termin (ellers siste før); post = første runde i "
        "terminen etter (ellers en senere runde i samme termin).",
        "For each school the round before the phase (pre) is compared with the round after "
        "(post). Pre = the school's first round in the phase's term (else its last before); "
        "post = its first round in the following term (else a later round in the same term).",
    ),
    "fa_pick": ("Fase", "Phase"),
    "fa_chart_title": ("Endring per skole med 95 % konfidensintervall",
                       "Change per school with 95% confidence interval"),
    "fa_pre": ("Før (pre)", "Before (pre)"),
    "fa_post": ("Etter (post)", "After (post)"),
    "fa_pre_round": ("Pre-runde", "Pre round"),
    "fa_post_round": ("Post-runde", "Post round"),
    "fa_change": ("Endring", "Change"),
    "fa_test": ("Test", "Test"),
    "fa_verdict": ("Vurdering", "Verdict"),
    "fa_n_pre": ("Svar før", "Responses before"),
    "fa_n_post": ("Svar etter", "Responses after"),
    "fa_linked": ("Samme elever begge runder", "Same pupils in both rounds"),
    "fa_linked_caption": (
        "«Samme elever» er elevene som svarte i begge rundene (koblet med pseudonym). "
        "Hovedtallet bruker alle som svarte, med et intervall som tar hensyn til at noen er "
        "de samme; «samme elever»-endringen vises i tabellen når minst {min_n} er koblet.",
        "'Same pupils' are those who answered both rounds (linked by pseudonym). The headline "
        "uses everyone who answered, with an interval that accounts for the overlap; the "
        "same-pupils change is shown in the table when at least {min_n} are linked.",
    ),
    "fa_linked_change": ("Endring samme elever", "Change, same pupils"),
    "fa_missing_round": ("mangler runde", "round missing"),
    "fa_no_rows": ("Ingen skoler i din tilgang har tall for denne fasen ennå.",
                   "No school in your access has numbers for this phase yet."),
    "test_overlap_score_z": ("skåretest med overlapp (alle svar)",
                             "overlap-corrected score test (all responses)"),
    "test_wilcoxon_signed_rank": ("Wilcoxon (samme elever)", "Wilcoxon signed-rank (same pupils)"),
    "test_mann_whitney": ("Mann–Whitney (uavhengige)", "Mann–Whitney (independent)"),
    "test_none": ("ikke testet", "not tested"),
    # Sammenligning
    "sa_title": ("Sammenligning", "Comparison"),
    "sa_intro": (
        "Har mobbingen gått mer ned ved LMP-skolene enn ved sammenligningsskolene og i landet?",
        "Has bullying fallen more at the LMP schools than at the comparison schools and in the "
        "country?",
    ),
    "sa_series_title": ("LMP-skoler og sammenligningsskoler over tid",
                        "LMP schools and comparison schools over time"),
    "sa_did_title": ("Forskjell i endring (difference-in-differences)",
                     "Difference in change (difference-in-differences)"),
    "sa_did_caption": (
        "Endringen ved LMP-skolene minus endringen ved sammenligningsskolene mellom to "
        "terminer. Intervallet tar hensyn til at elevene er samlet i skoler. Forutsetter at "
        "gruppene ville hatt samme utvikling uten programmet.",
        "The change at LMP schools minus the change at comparison schools between two terms. "
        "The interval accounts for pupils being clustered in schools. Assumes both groups "
        "would have moved in parallel without the programme.",
    ),
    "sa_pre_term": ("Før-termin", "Before term"),
    "sa_post_term": ("Etter-termin", "After term"),
    "sa_did_result": (
        "Forskjell i endring: **{did}** (95 % KI {lo} til {hi}; {p}). LMP-skolene endret "
        "seg {tc}, sammenligningsskolene {cc}.",
        "Difference in change: **{did}** (95% CI {lo} to {hi}; {p}). LMP schools changed "
        "{tc}, comparison schools {cc}.",
    ),
    "sa_did_hidden": (
        "Forskjellen kan ikke vises for dette valget: en av de fire cellene er skjult eller "
        "mangler, eller indikatoren er en skala.",
        "The difference cannot be shown for this choice: one of the four cells is hidden or "
        "missing, or the indicator is a scale.",
    ),
    "did_treated_change": ("Endring LMP-skoler", "Change, LMP schools"),
    "did_comparison_change": ("Endring sammenligningsskoler", "Change, comparison schools"),
    "sa_did_untested": ("For få skoler til å teste forskjellen (minst 5 i hver gruppe).",
                        "Too few schools to test the difference (at least 5 in each group)."),
    "sa_es_title": ("Hendelsesstudie: virkning etter terminer siden start",
                    "Event study: effect by terms since start"),
    "sa_es_caption": (
        "Callaway–Sant'Anna-estimat for hele programmet (alle puljer), med skoler som ennå "
        "ikke har startet og sammenligningsskoler som kontroll. Terminene før start "
        "(skyggelagt) skal ligge rundt null hvis forutsetningen om parallell utvikling holder.",
        "Callaway–Sant'Anna estimate for the whole programme (all cohorts), with schools that "
        "have not yet started and comparison schools as controls. The terms before start "
        "(shaded) should lie around zero if the parallel-trends assumption holds.",
    ),
    "sa_es_programme_note": (
        "Dette er et programanslag over alle deltakende skoler – det samme for alle roller.",
        "This is a programme-wide estimate over all participating schools – the same for "
        "every role.",
    ),
    "sa_pretrend_ok": (
        "Test av utvikling før start: {p} ({k} estimater før start). Ingen tydelige tegn på "
        "ulik utvikling før start.",
        "Pre-trend test: {p} ({k} pre-start estimates). No clear sign of different trends "
        "before the start.",
    ),
    "sa_pretrend_bad": (
        "Test av utvikling før start: {p} ({k} estimater før start). Gruppene utviklet seg "
        "ulikt allerede før start – tolk virkningen med forsiktighet.",
        "Pre-trend test: {p} ({k} pre-start estimates). The groups already moved differently "
        "before the start – interpret the effect with caution.",
    ),
    "sa_es_summary": ("Samlede anslag", "Summary estimates"),
    "est_att": ("Gjennomsnittlig virkning etter start (hovedanslag)",
                "Average effect after start (headline)"),
    "est_naive": ("Enkel før/etter-endring (inkluderer regresjon mot gjennomsnittet)",
                  "Naive before/after change (includes regression to the mean)"),
    "est_twfe": ("Statisk TWFE (bare til sammenligning)", "Static TWFE (for comparison only)"),
    "estimate": ("Anslag", "Estimate"),
    "pre_period": ("før start", "before start"),
    "post_period": ("etter start", "after start"),
    "sa_es_empty": ("For få skoler eller terminer til å anslå virkningen ennå.",
                    "Too few schools or terms to estimate the effect yet."),
    "sa_tech_notes": ("Tekniske merknader (engelsk)", "Technical notes"),
    "sa_nat_title": ("Mot Elevundersøkelsen", "Against the national Pupil Survey"),
    "sa_nat_caption": (
        "Elevundersøkelsens publiserte tall (prosent som svarer at de blir mobbet 2–3 ganger i "
        "måneden eller oftere), nasjonalt og for kommuner og skoler i din tilgang. "
        "Tall skjult i kilden («*») vises ikke.",
        "The Pupil Survey's published figures (percent reporting being bullied 2–3 times a "
        "month or more), nationally and for municipalities and schools in your access. "
        "Figures suppressed at source ('*') are not shown.",
    ),
    "sa_bench_title": ("Endring mot landet", "Change against the country"),
    "sa_bench_caption": (
        "Enhetens endring i Elevundersøkelsen minus landets endring over de samme årene "
        "(prosentpoeng).",
        "The unit's change in the Pupil Survey minus the national change over the same years "
        "(percentage points).",
    ),
    "sa_nat_empty": ("Ingen tall fra Elevundersøkelsen er lest inn.",
                     "No Pupil Survey figures have been loaded."),
    "eu_unit_change": ("Enhetens endring", "Unit's change"),
    "eu_national_change": ("Landets endring", "National change"),
    "eu_did": ("Forskjell", "Difference"),
    "eu_pre": ("Før", "Before"),
    "eu_post": ("Etter", "After"),
    "eu_national": ("Landet", "Country"),
    "eu_level_nasjon": ("Nasjonalt", "National"),
    "eu_level_kommune": ("Kommune", "Municipality"),
    "eu_level_skole": ("Skole", "School"),
    "eu_level_fylke": ("Fylke", "County"),
    # Datakvalitet
    "dq_title": ("Datakvalitet", "Data quality"),
    "dq_intro": (
        "Hvor mange svarte, hva som ble holdt tilbake ved innlesing, hvor mange spørsmål som "
        "ble stående ubesvart, og hvilken versjon av Spekter som ble brukt.",
        "How many answered, what was held back at ingest, how many questions were left blank, "
        "and which version of Spekter was used.",
    ),
    "dq_rate_title": ("Deltakelse og svarprosent", "Participation and response rate"),
    "dq_rate_caption": (
        "Svarprosent = antall som svarte / antall elever på trinnene som bruker Spekter det "
        "skoleåret. Under {low} er markert med ⚠. Runder ved mistanke gjelder én klasse og "
        "får ingen svarprosent.",
        "Response rate = respondents / pupils enrolled in the grades that use Spekter that "
        "school year. Below {low} is marked ⚠. Rounds on concrete suspicion cover one class "
        "and get no rate.",
    ),
    "dq_respondents": ("Svarte", "Respondents"),
    "dq_enrolled": ("Elever", "Enrolled"),
    "dq_rate": ("Svarprosent", "Response rate"),
    "dq_quarantine_title": ("Rader holdt tilbake ved innlesing (karantene)",
                            "Rows held back at ingest (quarantine)"),
    "dq_quarantine_caption": (
        "Rader som ikke besto kontrollene ble ikke lagret som svar. Antall per årsak; selve "
        "verdiene vises aldri.",
        "Rows that failed the checks were not stored as answers. Counts per reason; the "
        "values themselves are never shown.",
    ),
    "dq_quarantine_none": ("Ingen rader er holdt tilbake.", "No rows have been held back."),
    "dq_reason": ("Årsak", "Reason"),
    "dq_rows_read": ("Rader lest", "Rows read"),
    "dq_rows_quarantined": ("Rader i karantene", "Rows quarantined"),
    "dq_nonresponse_title": ("Ubesvarte spørsmål", "Items left blank"),
    "dq_nonresponse_caption": (
        "Andel av spørsmålene elevene fikk som de lot stå tomme. Oppfølgingsspørsmål som bare "
        "stilles til noen elever er ikke med.",
        "Share of the questions pupils were asked that they left blank. Follow-up questions "
        "asked only of some pupils are not included.",
    ),
    "dq_by_item": ("Per spørsmål, hele programmet", "Per question, whole programme"),
    "dq_item": ("Spørsmål", "Question"),
    "dq_module": ("Modul", "Module"),
    "dq_instrument_title": ("Spekter-versjon og moduler per runde",
                            "Spekter version and modules per round"),
    "dq_version": ("Versjon", "Version"),
    "dq_modules": ("Moduler", "Modules"),
    "dq_purpose": ("Formål", "Purpose"),
    "formal_mistanke": ("mistanke", "concrete suspicion"),
    "formal_forebyggende": ("forebyggende", "preventive"),
    # Om tallene
    "om_title": ("Om tallene", "About the numbers"),
    # Missing optional inputs: numbers that cannot be computed are said to be not available.
    "na_enrolment_all": (
        "Elevtall mangler for disse skolene, så svarprosent kan ikke beregnes.",
        "Enrolment is missing for these schools, so the response rate cannot be computed.",
    ),
    "na_enrolment_some": (
        "Elevtall mangler for {n} av skolene ({schools}), så svarprosent kan ikke beregnes "
        "for dem.",
        "Enrolment is missing for {n} of the schools ({schools}), so their response rate "
        "cannot be computed.",
    ),
    "na_comparison": (
        "Det finnes ingen sammenligningsskoler med tall for dette utvalget, så sammenligningen "
        "er ikke tilgjengelig.",
        "There are no comparison schools with numbers for this selection, so the comparison is "
        "not available.",
    ),
    "na_reference_programme": (
        "Ingen sammenligningsskoler har tall for disse terminene, så referansen er alle "
        "LMP-skolene samme termin.",
        "No comparison school has numbers for these terms, so the reference is all LMP schools "
        "in the same term.",
    ),
    "na_national": (
        "Ingen tall fra Elevundersøkelsen er lest inn, så landstall er ikke tilgjengelig.",
        "No Pupil Survey figures have been loaded, so national figures are not available.",
    ),
    "na_phase_pairs": (
        "Ingen skole har både en runde før og en runde etter dette valget, så endringen er ikke "
        "tilgjengelig ennå.",
        "No school has both a round before and a round after this choice, so the change is not "
        "available yet.",
    ),
}

_TERM_SEASON = {"H": ("Høst", "Autumn"), "V": ("Vår", "Spring")}
_KJONN = {"jente": "jente", "gutt": "gutt", "annet": "annet", "ukjent": "ukjent"}


def t(key: str, lang: str = "nb", **kwargs) -> str:
    """The text for ``key`` in ``lang`` with ``{placeholders}`` filled in."""
    nb, en = _TEXT[key]
    text = en if lang == "en" else nb
    return text.format(**kwargs) if kwargs else text


def has(key: str) -> bool:
    return key in _TEXT


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _number(x: float, decimals: int, lang: str) -> str:
    text = f"{abs(x):,.{decimals}f}"
    if lang == "nb":
        text = text.replace(",", "\u00a0").replace(".", ",")
    sign = MINUS if x < 0 and round(abs(x), decimals) != 0 else ""
    return sign + text


def fmt_num(x, lang: str = "nb", decimals: int = 0) -> str:
    """12345 -> '12 345' (nb) / '12,345' (en)."""
    return DASH if _missing(x) else _number(float(x), decimals, lang)


def fmt_pct(share, lang: str = "nb", decimals: int = 1) -> str:
    """A fraction as a percentage: 0.123 -> '12,3 %' (nb) / '12.3%' (en)."""
    if _missing(share):
        return DASH
    text = _number(float(share) * 100, decimals, lang)
    return f"{text}\u00a0%" if lang == "nb" else f"{text}%"


def fmt_pct_value(pct, lang: str = "nb", decimals: int = 1) -> str:
    """A number already in percent: 12.3 -> '12,3 %' / '12.3%'."""
    return DASH if _missing(pct) else fmt_pct(float(pct) / 100, lang, decimals)


def fmt_pp(diff, lang: str = "nb", decimals: int = 1, signed: bool = True) -> str:
    """A difference of fractions in percentage points: -0.021 -> '−2,1 pp'."""
    if _missing(diff):
        return DASH
    value = float(diff) * 100
    text = _number(value, decimals, lang)
    if signed and value > 0 and round(value, decimals) != 0:
        text = "+" + text
    return f"{text}\u00a0pp"


def fmt_mean(x, lang: str = "nb", decimals: int = 2, signed: bool = False) -> str:
    if _missing(x):
        return DASH
    text = _number(float(x), decimals, lang)
    if signed and float(x) > 0 and round(float(x), decimals) != 0:
        text = "+" + text
    return text


def fmt_p(p, lang: str = "nb") -> str:
    if _missing(p):
        return DASH
    if p < 0.001:
        return "< 0,001" if lang == "nb" else "< 0.001"
    return _number(float(p), 3, lang)


def p_phrase(p, lang: str = "nb") -> str:
    """'p = 0,055' or 'p < 0,001'."""
    text = fmt_p(p, lang)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_value(x, kind: str, lang: str = "nb") -> str:
    """Share as percent, scale as a mean with two decimals."""
    return fmt_pct(x, lang) if kind == "share" else fmt_mean(x, lang)


def fmt_change(x, kind: str, lang: str = "nb") -> str:
    return fmt_pp(x, lang) if kind == "share" else fmt_mean(x, lang, signed=True)


def fmt_interval(low, high, kind: str, lang: str = "nb") -> str:
    """'9,8–15,1 %' for shares, '3,41–3,77' for means."""
    if _missing(low) or _missing(high):
        return DASH
    if kind == "share":
        unit = "\u00a0%" if lang == "nb" else "%"
        return f"{_number(low * 100, 1, lang)}{DASH}{_number(high * 100, 1, lang)}{unit}"
    return f"{_number(low, 2, lang)}{DASH}{_number(high, 2, lang)}"


def fmt_change_interval(low, high, kind: str, lang: str = "nb") -> str:
    if _missing(low) or _missing(high):
        return DASH
    sep = " til " if lang == "nb" else " to "
    return f"{fmt_change(low, kind, lang)}{sep}{fmt_change(high, kind, lang)}"


def fmt_value_ci(x, low, high, kind: str, lang: str = "nb") -> str:
    """'12,3 % (9,8–15,1)' - the value with its interval in one cell."""
    if _missing(x):
        return DASH
    if _missing(low) or _missing(high):
        return fmt_value(x, kind, lang)
    if kind == "share":
        inner = f"{_number(low * 100, 1, lang)}{DASH}{_number(high * 100, 1, lang)}"
    else:
        inner = f"{_number(low, 2, lang)}{DASH}{_number(high, 2, lang)}"
    return f"{fmt_value(x, kind, lang)} ({inner})"


def hidden_label(n_display: str | None, lang: str = "nb") -> str:
    """The text of a suppressed cell: 'skjult' / 'hidden' (every hidden cell reads the same;
    an ``n_display`` other than the engine's one mark '*' is shown in brackets)."""
    word = t("hidden", lang)
    return f"{word} ({n_display})" if n_display and n_display != "*" else word


def term_label(term: str, lang: str = "nb") -> str:
    """'2024H' -> 'Høst 2024' / 'Autumn 2024'."""
    if not term or len(term) != 5 or term[4] not in _TERM_SEASON:
        return str(term)
    nb, en = _TERM_SEASON[term[4]]
    return f"{en if lang == 'en' else nb} {term[:4]}"


def term_short(term: str, lang: str = "nb") -> str:
    """'2024H' -> 'H24' (nb) / 'A24' (en), for compact tables and axes."""
    if not term or len(term) != 5:
        return str(term)
    season = {"H": ("H", "A"), "V": ("V", "S")}[term[4]]
    return f"{season[1] if lang == 'en' else season[0]}{term[2:4]}"


def breakdown_label(breakdown: str, value: str, lang: str = "nb") -> str:
    if breakdown == "trinn":
        try:
            k = int(value)
        except (TypeError, ValueError):
            return str(value)
        return t("vg_n", lang, n=k - 10) if k > 10 else t("grade_n", lang, n=k)
    if breakdown == "kjonn":
        return t(_KJONN.get(value, "ukjent"), lang)
    return str(value)


def rolle_label(rolle: str | None, lang: str = "nb") -> str:
    """One school's type: 'LMP-skole' / 'Sammenligningsskole'."""
    if rolle in ("deltaker", "sammenligning"):
        return t(f"{rolle}_one", lang)
    return str(rolle or "")


def verdict_text(verdict: str | None, lang: str = "nb") -> str:
    if not verdict:
        return DASH
    from lmp_analytics.stats.verdict import verdict_label

    try:
        return verdict_label(verdict, lang)  # type: ignore[arg-type]
    except Exception:
        return str(verdict)


def test_label(test: str | None, lang: str = "nb") -> str:
    key = f"test_{test}" if test else "test_none"
    return t(key, lang) if has(key) else str(test)


def vega_locale(lang: str) -> dict:
    """Vega number locale, so chart axes use the language's decimal mark and percent sign."""
    if lang == "nb":
        return {"number": {"decimal": ",", "thousands": "\u00a0", "grouping": [3],
                           "currency": ["", "\u00a0kr"], "percent": "\u00a0%", "minus": MINUS}}
    return {"number": {"decimal": ".", "thousands": ",", "grouping": [3],
                       "currency": ["", ""], "percent": "%", "minus": MINUS}}
