"""The Google side: read the form's response sheet (a file export, a published CSV, the Sheets API) into plain
rows for outages/, and write each row's verdict back. Imports nothing from web/."""
