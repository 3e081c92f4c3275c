"""Activities registered through a blueprint."""

import azure.durable_functions as df

bp = df.Blueprint()


@bp.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    """Greet a city."""
    return f"Hello {city}!"
