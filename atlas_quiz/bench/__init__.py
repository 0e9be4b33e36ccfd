"""Benchmarks: ``python -m atlas_quiz.bench NAME`` prints a table, then one line of JSON.

Each benchmark measures its baseline in the same run, so the numbers compare
like with like on whatever machine runs them.
"""
