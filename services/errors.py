"""The one exception a rule raises when input breaks it."""


class RuleViolation(Exception):
    """Input that a rule refuses; `message` is for the user (lazily translated).

    `field` names the form field at fault, when there is one, so a page can show the
    message beside it and the API can return it under `fields`. `fields`, when given, holds
    several fields' messages at once (a settings form checked as a whole).
    """

    def __init__(self, message, field=None, code="invalid", available_at=None, fields=None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code
        # when the refused act becomes possible (a claim's waiting periods), for the API's `available_at`
        self.available_at = available_at
        self.fields = fields or {}
