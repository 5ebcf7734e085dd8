"""Currencies (ISO 4217) and amounts in their minor units (cents, or yen, or fils)."""

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated

from babel.numbers import get_currency_precision, list_currencies
from pydantic import AfterValidator

# The largest amount kept, in minor units: far beyond any campaign, well inside BIGINT.
MAX_MINOR_UNITS = 10**15


@cache
def _codes() -> frozenset[str]:
    return frozenset(list_currencies())


def currency_code(code: str) -> str:
    """An ISO 4217 code in capitals (`USD`, `EUR`); ValueError otherwise."""
    if len(code) != 3 or code.upper() != code or code not in _codes():
        raise ValueError("must be an ISO 4217 currency code in capitals, e.g. EUR")
    return code


Currency = Annotated[str, AfterValidator(currency_code)]


def minor_units(amount: str | int | float | Decimal, currency: str) -> int:
    """A decimal amount (`"12.50"`) in the currency's minor units (1250); ValueError when it
    is not a number, negative, too large or finer than the currency's smallest unit."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError("the amount is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise ValueError("the amount must be a non-negative number")
    scaled = value.scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"the amount has more decimals than {currency} has")
    units = int(scaled)
    if units > MAX_MINOR_UNITS:
        raise ValueError("the amount is too large")
    return units
