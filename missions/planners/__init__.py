"""Planners: build a patrol ``Mission`` from places (see ``missions.planners.api.plan``)."""
