"""Telemetry (SCADA/IoT readings): units, CSV parsing and the alarm rule engine — pure logic, no storage.

- :mod:`runze.telemetry.units` — reading units to canonical units (MPa, m³/h, m, NTU)
- :mod:`runze.telemetry.parse` — tidy and BattLeDIM CSV files to clean readings plus rejected rows and gaps
- :mod:`runze.telemetry.alarms` — alarm rules with hysteresis and an acknowledge/clear lifecycle
"""
