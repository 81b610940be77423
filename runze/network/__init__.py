"""Network model, EPANET `.inp` input/output, validation and topology."""

from runze.network.errors import InpError, NetworkError
from runze.network.model import (
    Control,
    Curve,
    Demand,
    Junction,
    Network,
    Options,
    Pattern,
    Pipe,
    Pump,
    Reservoir,
    Rule,
    Tank,
    TimeOptions,
    UtilityAttributes,
    Valve,
)

__all__ = [
    "Control", "Curve", "Demand", "InpError", "Junction", "Network", "NetworkError", "Options", "Pattern",
    "Pipe", "Pump", "Reservoir", "Rule", "Tank", "TimeOptions", "UtilityAttributes", "Valve",
]
