import pytest

from course_lib.checks import ExerciseFailed, nb00


def test_joint_action_check_passes_on_reference(capsys):
    nb00.check_joint_action_count(lambda n, a: a**n)
    assert "Exercise 0.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [lambda n, a: n * a, lambda n, a: float(a**n), lambda n, a: n**a])
def test_joint_action_check_rejects_wrong_answers(wrong):
    with pytest.raises(ExerciseFailed, match="0.1"):
        nb00.check_joint_action_count(wrong)


def test_joint_action_check_explains_unsolved_stub():
    def stub(n, a):
        raise NotImplementedError("Exercise 0.1: the size of the joint action space")

    with pytest.raises(ExerciseFailed, match="not implemented yet"):
        nb00.check_joint_action_count(stub)
