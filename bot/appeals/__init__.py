"""诉求 that leave the conversation for the 12345 hotline: complaints, questions
to follow up, and 差评 to call back on; each a work order we follow to its 回访."""
