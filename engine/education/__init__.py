"""Education: the glossary, courses with quizzes and exercises checked in the real app, and
feature tours (Qt-free). ``content`` loads and validates ``resources/education``; ``quiz``
scores answers (the service scores with it, never trusting a client's score); ``glossary``
searches; ``exercises`` checks an exercise against engine state; ``progress`` is the local
progress store."""
