"""Residents' reports (issue 20, seed 002 and seed 000 §4–5): "no water at Соборна 14" from the site, the bot or
Open311, answered from known records first, otherwise premoderated, forwarded to the utility with the regulation's
deadlines, followed by the records to «Роботу виконано». Knows no Flask (web/reports/, web/open311/ are its doors).
"""
