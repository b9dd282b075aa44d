import pytest

from hydra.symbols.demangle import demangle, function_name, strip_parameters


@pytest.mark.parametrize("symbol,expected", [
    ("_ZSt9terminatev", "std::terminate"),
    ("_ZNKSt8functionIFviEEclEi", "std::function<void (int)>::operator()"),
    ("_ZN4shop9WorkQueueINS_5OrderEE3popEv", "shop::WorkQueue<shop::Order>::pop"),
    ("_ZN3foo3barEv.isra.0", "foo::bar [clone .isra.0]"),
    ("_ZN4core9panicking5panic17h0123456789abcdefE", "core::panicking::panic"),
    ("main", "main"),
    ("_Znot_really", "_Znot_really"),
])
def test_function_names(symbol, expected):
    assert function_name(symbol) == expected


def test_strip_parameters_keeps_operator_call():
    assert strip_parameters("ns::Cls::operator()(int) const") == "ns::Cls::operator()"
    assert strip_parameters("f(std::function<void (int)>)") == "f"
    assert demangle("_ZSt9terminatev") == "std::terminate()"
