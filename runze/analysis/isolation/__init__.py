"""Outage planning (零点维修): valve segments, repair plans, best windows, notices and segment criticality."""
