from litestar import Controller, get


class UserController(Controller):
    path = "/users"

    @get()
    async def list_users(self) -> list[str]:
        return []

    @get("/{user_id:int}")
    async def get_user(self, user_id: int) -> str:
        return str(user_id)
