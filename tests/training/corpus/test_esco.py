from __future__ import annotations

from implementor.training.corpus.esco import action_verbs, occupations, skills, split_occupation, split_skill


def test_occupation_label_ends_where_its_plural_starts_the_description() -> None:
    row = ("web developer web programmer site developer Web developers develop, implement and document "
           "web-accessible software. They align the client's needs.")
    occupation = split_occupation(row)
    assert occupation is not None
    assert occupation.label == "web developer"
    assert occupation.description.startswith("Web developers develop")


def test_skill_label_ends_before_the_next_alternative_label() -> None:
    assert split_skill("manage musical staff manage staff of music Assign and manage staff tasks.") == (
        "manage musical staff", "Assign and manage staff tasks.")
    assert split_skill("keep records keeping records filing records Keep records of sales and stock.") == (
        "keep records", "Keep records of sales and stock.")
    # No way to tell where the first label ends: the row is dropped rather than guessed.
    assert split_skill("supervise correctional procedures oversee prison procedures manage jails Supervise it.") is None


def test_verbs_are_learnt_from_labels_their_descriptions_repeat() -> None:
    pairs = [("develop plans", "Develop plans."), ("develop code", "Develop code."),
             ("quality standards", "Quality standards are rules."), ("quality control", "Quality control is.")]
    verbs = action_verbs(pairs)
    assert "develop" in verbs and "quality" not in verbs


def test_the_shipped_esco_data_yields_enough_entries() -> None:
    occs, sks = occupations(), skills()
    assert len(occs) >= 2000
    assert len([s for s in sks if not s.knowledge]) >= 2000
    assert all(o.label and o.description[0].isupper() for o in occs)
    labels = {s.label for s in sks}
    assert "develop design plans" in labels
