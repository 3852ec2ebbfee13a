"""The human side of a conversation: the queue of people waiting for a hotline
agent (``desk``), the conversation's running log that agents read and the
person's pages follow (``log``), and drafts started on the phone (``phone``)."""
