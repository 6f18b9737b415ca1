"""The Welsh texts of the first demo panel (:mod:`delphi.demo`), keyed by the English text they translate.

:data:`WELSH` maps each English text a panellist of the demo panel reads (its title, description, the paragraphs
of its consent text, the stakeholder groups' names, the labelled scale points, the "unable to rate" answer, its neutral name for discreet mode,
the statements and their sections, the ranking question and its items, the about-you questions with their
choices and unit) to its Welsh.  :func:`welsh` answers a whole text, a multi-paragraph one (the consent text)
paragraph by paragraph.  The seeding matches these to the rows it created through
:func:`delphi.panels.translation_gaps.round_items`, so no key is built here.

Plain Welsh for a reading age of about 11, "chi" forms; the product's terms: panel = panel, round = rownd,
statement = datganiad, rating = sgôr.  Written for the demo by the engine's contributors, not by a professional
translator (:data:`TRANSLATED_BY` says so on the panel).
"""

from __future__ import annotations

__all__ = ["LANGUAGE", "TRANSLATED_BY", "WELSH", "welsh"]

#: The language tag the texts are in (as :func:`delphi.locale.language_tag` gives it).
LANGUAGE = "cy"

#: Who translated the demo panel into Welsh, as the panel's languages page credits it.
TRANSLATED_BY = "Delphi engine contributors (demo translation, not checked by a professional translator)"

#: English text → Welsh.  The consent text is here paragraph by paragraph (:func:`welsh` joins them).
WELSH: dict[str, str] = {
    # the stakeholder groups (the feedback by group names them)
    "Service users": "Defnyddwyr gwasanaethau",
    "Practitioners": "Ymarferwyr",
    "Experts": "Arbenigwyr",
    # the panel
    "Involving people who use drug services in decisions about their treatment": (
        "Cynnwys pobl sy'n defnyddio gwasanaethau cyffuriau mewn penderfyniadau am eu triniaeth"
    ),
    (
        "We are asking service users, practitioners and experts how people who use drug services should take part "
        "in decisions about their own treatment. Over two or three short rounds you will rate draft "
        "recommendations from 1 (strongly disagree) to 9 (strongly agree). From the second round you will see, "
        "anonymously, how the panel answered last time, and you can change your mind."
    ): (
        "Rydyn ni'n gofyn i ddefnyddwyr gwasanaethau, ymarferwyr ac arbenigwyr sut dylai pobl sy'n defnyddio "
        "gwasanaethau cyffuriau gymryd rhan mewn penderfyniadau am eu triniaeth eu hunain. Mewn dwy neu dair "
        "rownd fer, byddwch chi'n rhoi sgôr i argymhellion drafft, o 1 (anghytuno'n gryf) i 9 (cytuno'n gryf). "
        "O'r ail rownd ymlaen, byddwch chi'n gweld sut atebodd y panel y tro diwethaf, heb enwau, a gallwch chi "
        "newid eich meddwl."
    ),
    "Service feedback study": "Astudiaeth adborth ar wasanaethau",
    "I can't rate this": "Alla i ddim rhoi sgôr i hwn",
    # the labelled points of the nine-point scale
    "Strongly disagree": "Anghytuno'n gryf",
    "Neither agree nor disagree": "Ddim yn cytuno nac yn anghytuno",
    "Strongly agree": "Cytuno'n gryf",
    # the consent text for k = 3 (delphi.panels.consent_text.default_consent_text(3)), a paragraph at a time
    "Taking part is voluntary and you can leave at any time without giving a reason.": (
        "Mae cymryd rhan yn wirfoddol, a gallwch chi adael unrhyw bryd heb roi rheswm."
    ),
    (
        "Other panel members never see your name or e-mail address. Between rounds you will see how the panel "
        "answered: figures for the whole panel and for its groups. Figures are shown only for groups of at least "
        "three people, and never anything from which the answers of fewer than three people could be worked out, "
        "for example by taking one group's figures away from the whole panel's. So a small group's figures are "
        "hidden, and so are another group's when they would give the small group away. If fewer than three people "
        "answer a statement, no figures are shown for it at all."
    ): (
        "Fydd aelodau eraill y panel byth yn gweld eich enw na'ch cyfeiriad e-bost. Rhwng rowndiau, byddwch chi'n "
        "gweld sut atebodd y panel: ffigurau ar gyfer y panel cyfan ac ar gyfer ei grwpiau. Dim ond ar gyfer "
        "grwpiau o dri o bobl o leiaf y byddwn ni'n dangos ffigurau. Fyddwn ni byth yn dangos dim byd a allai "
        "adael i rywun weithio allan atebion llai na thri o bobl, er enghraifft drwy dynnu ffigurau un grŵp o "
        "ffigurau'r panel cyfan. Felly rydyn ni'n cuddio ffigurau grŵp bach, a ffigurau grŵp arall hefyd pan "
        "fydden nhw'n datgelu'r grŵp bach. Os bydd llai na thri o bobl yn ateb datganiad, fyddwn ni ddim yn "
        "dangos unrhyw ffigurau ar ei gyfer o gwbl."
    ),
    (
        "Your comments are shown to others only after a facilitator has checked that they do not identify anyone."
    ): (
        "Bydd pobl eraill yn gweld eich sylwadau dim ond ar ôl i hwylusydd wirio nad ydyn nhw'n dangos pwy yw "
        "unrhyw un."
    ),
    "If you leave, we keep the ratings you already gave under a code name unless you ask us to delete them.": (
        "Os byddwch chi'n gadael, byddwn ni'n cadw'r sgoriau rydych chi wedi'u rhoi yn barod dan enw cod, oni bai "
        "eich bod chi'n gofyn i ni eu dileu."
    ),
    # the sections of the statements
    "Information before treatment": "Gwybodaeth cyn triniaeth",
    "Agreeing the plan": "Cytuno ar y cynllun",
    "Choice of services": "Dewis o wasanaethau",
    "Waiting and referral": "Aros ac atgyfeirio",
    # the statements
    (
        "Services should offer clear information on what treatment involves in more than one form, such as a "
        "short video or an audio recording, not only in writing."
    ): (
        "Dylai gwasanaethau gynnig gwybodaeth glir am beth mae triniaeth yn ei olygu mewn mwy nag un ffurf, fel "
        "fideo byr neu recordiad sain, nid yn ysgrifenedig yn unig."
    ),
    (
        "Before treatment starts, staff should talk honestly with each person about how hard treatment can be, "
        "so that they can prepare for it."
    ): (
        "Cyn i driniaeth ddechrau, dylai staff siarad yn onest â phob person am ba mor anodd y gall triniaeth "
        "fod, er mwyn iddyn nhw allu paratoi ar ei chyfer."
    ),
    (
        "A treatment contract should be revisited with the person's key worker after the first weeks, and "
        "changed where it no longer fits."
    ): (
        "Dylai'r cytundeb triniaeth gael ei adolygu gyda gweithiwr allweddol y person ar ôl yr wythnosau cyntaf, "
        "a'i newid os nad yw'n addas bellach."
    ),
    (
        "People starting substitute prescribing should be offered an induction group with others starting at "
        "the same time."
    ): (
        "Dylai pobl sy'n dechrau presgripsiwn amnewid gael cynnig grŵp cynefino gyda phobl eraill sy'n dechrau "
        "yr un pryd."
    ),
    "People should have a say in how long their detox lasts and in which medication is used for it.": (
        "Dylai pobl gael dweud eu dweud am ba mor hir mae eu dadwenwyno'n para, ac am ba feddyginiaeth sy'n cael "
        "ei defnyddio ar ei gyfer."
    ),
    (
        "Commissioners should fund a range of services locally, including services for people with complex "
        "needs."
    ): (
        "Dylai comisiynwyr ariannu amrywiaeth o wasanaethau yn lleol, gan gynnwys gwasanaethau i bobl ag "
        "anghenion cymhleth."
    ),
    "Referral to residential treatment should follow published, evidence-based guidelines that people can read.": (
        "Dylai atgyfeirio at driniaeth breswyl ddilyn canllawiau cyhoeddedig sy'n seiliedig ar dystiolaeth, y "
        "gall pobl eu darllen."
    ),
    (
        "When a person has a justified preference for a type of treatment, staff should accept it and explain "
        "its risks plainly."
    ): (
        "Pan fydd gan berson reswm da dros ddewis math o driniaeth, dylai staff dderbyn hynny ac esbonio'r "
        "risgiau'n glir."
    ),
    (
        "When the service a person prefers is not available, staff should tell them so and record the "
        "alternatives they were offered."
    ): (
        "Pan nad yw'r gwasanaeth mae person yn ei ddewis ar gael, dylai staff ddweud hynny wrthyn nhw, a "
        "chofnodi'r dewisiadau eraill a gafodd eu cynnig iddyn nhw."
    ),
    (
        "Services should give realistic waiting times for referrals and tell people promptly when there is a "
        "delay."
    ): (
        "Dylai gwasanaethau roi amseroedd aros realistig ar gyfer atgyfeiriadau, a dweud wrth bobl yn brydlon "
        "pan fydd oedi."
    ),
    # the ranking question and its items
    "Put these service changes in order of priority": (
        "Rhowch y newidiadau hyn i'r gwasanaeth yn nhrefn blaenoriaeth"
    ),
    "Shorter waiting times for a first appointment": "Amseroedd aros byrrach am apwyntiad cyntaf",
    "A named key worker for each person": "Gweithiwr allweddol wedi'i enwi i bob person",
    "More peer support workers": "Mwy o weithwyr cymorth cymheiriaid",
    "Help with housing and benefits": "Help gyda thai a budd-daliadau",
    "Evening and weekend opening hours": "Oriau agor gyda'r nos ac ar benwythnosau",
    # the about-you (baseline) questions, their choices and unit
    "How long have you used or worked in drug services?": (
        "Ers faint ydych chi wedi defnyddio gwasanaethau cyffuriau, neu wedi gweithio ynddyn nhw?"
    ),
    "Less than a year": "Llai na blwyddyn",
    "1 to 5 years": "1 i 5 mlynedd",
    "More than 5 years": "Mwy na 5 mlynedd",
    "Age": "Oed",
    "years": "oed",
}


def welsh(english: str) -> str | None:
    """The Welsh of ``english`` (spaces around it ignored), or None when there is none.

    A text of several paragraphs (separated by a blank line, as the consent text is) not found whole is
    translated paragraph by paragraph and joined the same way; None if any paragraph has no Welsh.
    """
    text = english.strip()
    if text in WELSH:
        return WELSH[text]
    paragraphs = [p.strip() for p in text.split("\n\n")]
    if len(paragraphs) < 2 or any(p not in WELSH for p in paragraphs):
        return None
    return "\n\n".join(WELSH[p] for p in paragraphs)
