"""Om tallene: definitions, methods, caveats, data sources and suppression rules in plain
language (bokmål and English)."""

from __future__ import annotations

import polars as pl
import streamlit as st
from lmpdash import charts, ui
from lmpdash.context import current

from lmp_analytics.presentation.labels import power_caveat, rtm_caveat
from lmp_analytics.readmodels import catalogue

SECTIONS = {
    "nb": [
        ("Hva måles?", """
Tallene kommer fra **Spekter**, spørreskjemaet skolene i Læringsmiljøprosjektet bruker i hver
klasse, vanligvis tidlig i hver termin (høst og vår). Én **runde** er én skoles
gjennomføring i en termin.

- **Mobbet** (hovedindikatoren) er andelen elever som svarer at de er blitt mobbet *2–3 ganger
  i måneden eller oftere*, blant dem som svarte på spørsmålet. Tilsvarende for mobbet digitalt,
  av voksne, samlet (elever, digitalt eller voksne) og for å ha mobbet andre.
- **Skalaene** (trivsel og trygghet, relasjoner til lærer og medelever, klasseledelse) er
  gjennomsnitt fra 1 til 5 der høyere er bedre. Eleven må ha svart på minst halvparten av
  spørsmålene.
- Et spørsmål som ikke var med i skjemaet en runde, vises som «ikke målt» – aldri som 0.
- Tall for kommuner og hele programmet regnes ut fra antall elever, aldri som gjennomsnitt av
  prosenter.
"""),
        ("Usikkerhet", """
Hvert tall vises med et **95 % konfidensintervall**: området der den sanne verdien med stor
sannsynlighet ligger, gitt hvor mange som svarte. For én skole brukes Wilson-intervallet; for
kommuner og hele programmet tas det hensyn til at elever i samme skole ligner hverandre.

En **endring** mellom to runder bruker alle som svarte, og tar hensyn til at mange er de samme
elevene begge gangene. Vurderingen «tydelig nedgang», «tydelig økning» eller «ingen tydelig
endring» leses av intervallet: ligger hele intervallet under null, er nedgangen tydelig.
"""),
        ("Før og etter fasene", """
Programmet har fire faser, én per termin. For hver fase sammenlignes skolens runde **før**
fasen (første runde i fasens termin, ellers siste før) med runden **etter** (første runde i
terminen etter, ellers en senere runde i samme termin). Rundene som er brukt, står alltid ved
resultatet.
"""),
        ("Sammenligning og programmets virkning", """
- **Sammenligningsskoler** bruker Spekter, men er ikke med i programmet. De viser hvordan
  mobbingen utvikler seg uten programmet.
- **Forskjell i endring** (difference-in-differences): endringen ved LMP-skolene minus
  endringen ved sammenligningsskolene.
- **Hendelsesstudien** (Callaway og Sant'Anna) sammenligner hver pulje med skoler som ennå
  ikke har startet og med sammenligningsskolene, termin for termin etter start. Terminene før
  start skal ligge rundt null; gjør de ikke det, er forutsetningen tvilsom.
- **Elevundersøkelsen** er Utdanningsdirektoratets nasjonale undersøkelse. Den måler «mobbing
  på skolen» litt annerledes enn Spekter og bare om høsten, så sammenligningen er veiledende.
"""),
        ("Personvern: skjulte tall og roller", """
- Elevene er pseudonymisert før noe lagres; navn og fritekst lagres aldri.
- Et tall som bygger på færre enn **{min_n} svar**, vises ikke («skjult»). Noen tall skjules i
  tillegg, slik at et skjult tall ikke kan regnes ut ved å trekke de synlige fra en sum – på
  tvers av kommune, skole, trinn og kjønn.
- En sum minus de synlige delene gir aldri en gruppe på færre enn {min_n} elever: de skjulte
  delene av en sum har til sammen – medregnet elever uten oppgitt kjønn eller trinn – enten ingen
  eller minst {min_n} elever. Alle skjulte tall er merket likt (`*`), så merket sier ikke hvilke
  som er små.
- Hva du ser, avhenger av rollen din: programeier ser alle skoler, en kommune ser sine egne
  skoler og samlede tall for programmet, en veileder ser skolene sine. Ingen ser tall for
  enkeltklasser i dashbordet.
- Nedlastinger (CSV) inneholder nøyaktig de samme skjulte og synlige tallene som tabellene.
"""),
        ("Datakilder", """
- Spekter-eksporter fra skolene (én rad per elev og runde), lest inn med kontroll av hver
  rad; rader som ikke består kontrollen, holdes tilbake (se Datakvalitet).
- Programlisten (skoler, kommuner, pulje, oppstart og eventuelle lokale tilpasninger av fasene).
- Elevtall per trinn (for svarprosent).
- Elevundersøkelsen fra Utdanningsdirektoratets statistikkbank (publiserte tall; tall som er
  skjult i kilden, vises ikke).
"""),
    ],
    "en": [
        ("What is measured?", """
The numbers come from **Spekter**, the questionnaire the schools in the Learning Environment
Project use in every class, usually early in each term (autumn and spring). A **round** is one
school's survey in one term.

- **Bullied** (the headline indicator) is the share of pupils who report being bullied *2–3
  times a month or more*, among those who answered the question. Likewise for bullied
  digitally, by adults, in any way (peers, digitally or adults) and for having bullied others.
- The **scales** (well-being and safety, relations with teachers and peers, classroom
  management) are means from 1 to 5 where higher is better. A pupil must have answered at
  least half of the questions.
- A question that was not in a round's questionnaire shows as 'not measured' – never as 0.
- Municipality and programme figures are computed from counts of pupils, never as averages of
  percentages.
"""),
        ("Uncertainty", """
Every figure carries a **95% confidence interval**: the range that very likely contains the
true value, given how many answered. For a single school the Wilson interval is used; for
municipalities and the programme the interval accounts for pupils in the same school being
alike.

A **change** between two rounds uses everyone who answered and accounts for many being the same
pupils both times. The verdict 'clear decrease', 'clear increase' or 'no clear change' is read
off the interval: if the whole interval is below zero, the decrease is clear.
"""),
        ("Before and after the phases", """
The programme has four phases, one per term. For each phase, the school's round **before** the
phase (its first round in the phase's term, else its last before) is compared with the round
**after** (its first round in the following term, else a later round in the same term). The
rounds used are always shown with the result.
"""),
        ("Comparison and the programme's effect", """
- **Comparison schools** use Spekter but are not in the programme. They show how bullying
  develops without the programme.
- **Difference in change** (difference-in-differences): the change at LMP schools minus the
  change at comparison schools.
- The **event study** (Callaway and Sant'Anna) compares each cohort with schools that have not
  yet started and with the comparison schools, term by term after the start. The terms before
  the start should lie around zero; if they do not, the assumption is doubtful.
- The **Pupil Survey** (Elevundersøkelsen) is the Directorate for Education's national survey.
  It measures 'bullying at school' slightly differently from Spekter and only in autumn, so the
  comparison is indicative.
"""),
        ("Privacy: hidden numbers and roles", """
- Pupils are pseudonymised before anything is stored; names and free text are never stored.
- A figure based on fewer than **{min_n} responses** is not shown ('hidden'). Some further
  figures are hidden so that a hidden number cannot be worked out by subtracting the visible
  ones from a total – across municipality, school, grade and gender.
- A total minus its visible parts never gives a group of fewer than {min_n} pupils: the hidden
  parts of a total hold together – counting pupils with no gender or grade given – either none or
  at least {min_n} pupils. Every hidden figure wears the same mark (`*`), so the mark does not
  tell which are small.
- What you see depends on your role: the programme owner sees all schools, a municipality its
  own schools and programme-wide totals, a supervisor their schools. Nobody sees figures for
  single classes in the dashboard.
- Downloads (CSV) contain exactly the same hidden and visible figures as the tables.
"""),
        ("Data sources", """
- Spekter exports from the schools (one row per pupil and round), loaded with a check of every
  row; rows that fail are held back (see Data quality).
- The programme roster (schools, municipalities, cohort, start term and any local adaptation
  of the phases).
- Pupils enrolled per grade (for response rates).
- The Pupil Survey from the Directorate's statistics bank (published figures; figures
  suppressed at source are not shown).
"""),
    ],
}


def main() -> None:
    ctx = current()
    lang = ctx.lang
    st.title(ctx.t("om_title"))
    for title, body in SECTIONS[lang]:
        st.subheader(title)
        st.markdown(body.format(min_n=ui.min_n_value()))
        if title in ("Usikkerhet", "Uncertainty"):
            st.info(power_caveat(lang))
        if title in ("Før og etter fasene", "Before and after the phases"):
            st.warning(rtm_caveat(lang))
    st.subheader(ctx.t("indicator"))
    rows = [{ctx.t("indicator"): info.label(lang), "id": info.id,
             " ": ctx.t("axis_share") if info.kind == "share" else ctx.t("axis_mean")}
            for info in catalogue.indicator_catalogue().values()]
    charts.show_table(charts.Table(pl.DataFrame(rows)), lang, key="om_indicators",
                      file_name=f"lmp_indikatorer_{lang}")


main()
