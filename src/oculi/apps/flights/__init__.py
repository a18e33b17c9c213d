"""Flights: saved bookings, status and reminders, airports and airlines."""
