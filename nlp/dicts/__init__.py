"""jieba user dictionaries shipped with Linli (`community.txt`: the community vocabulary)."""
