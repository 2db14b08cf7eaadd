"""The payment rules against the real SQLite adapter."""

from functools import partial

import pytest

from payment_svc import accounts
from payment_svc.accounts import DirectPayment, User
from shopmesh.errors import Kind, ShopError
from shopmesh.validation import MAX_INT32

# Every rule that takes a user, with arguments that would succeed for user "0".
RULES = {
    accounts.find_user: {},
    accounts.add_funds: {"amount": 1},
    accounts.pay: {"amount": 1},
    accounts.pay_order: {"order_id": "o1", "amount": 1},
    accounts.cancel_payment: {"order_id": "o1"},
    accounts.payment_status: {"order_id": "o1"},
}
ORDER_RULES = [accounts.pay_order, accounts.cancel_payment, accounts.payment_status]
AMOUNT_RULES = [accounts.add_funds, accounts.pay, accounts.pay_order]


def call(rule, **arguments):
    return partial(rule, **{"user_id": "0", **RULES[rule], **arguments})


def accounts_now(repo):
    """What the tests compare before and after a refused change."""
    users = [repo.get_user(user_id) for user_id in ("0", "1")]
    return users, [repo.get_payment("0", order_id) for order_id in ("o1", "o2")]


def credit(user_id="0"):
    return lambda repo: repo.get_user(user_id).credit


@pytest.fixture
async def bank(payment_store):
    """Users "0" and "1" with credit 50 each."""
    await payment_store.transact(lambda repo: repo.put_users(accounts.batch_users(2, 50)))
    return payment_store


async def test_new_user_has_no_credit_and_a_unique_id(payment_store):
    first, second = accounts.new_user(), accounts.new_user()
    assert first.credit == 0 and first.user_id != second.user_id
    await payment_store.transact(lambda repo: repo.put_user(first))
    assert await payment_store.read(partial(accounts.find_user, user_id=first.user_id)) == first


async def test_batch_users_are_numbered_from_zero(bank):
    assert await bank.read(accounts_now) == ([User("0", 50), User("1", 50)], [None, None])
    assert await bank.read(lambda repo: repo.get_user("2")) is None


@pytest.mark.parametrize(
    ("args", "reason"),
    [((0, 1), "INVALID_COUNT"), ((MAX_INT32 + 1, 1), "INVALID_COUNT"), ((1, -1), "INVALID_AMOUNT")],
)
def test_batch_users_refuses_bad_arguments(args, reason):
    with pytest.raises(ShopError) as info:
        accounts.batch_users(*args)
    assert info.value.reason == reason


async def test_check_users_refuses_what_would_not_fit_beside_held_credit_and_writes_nothing(bank):
    reserve = partial(
        accounts.reserve_credit, txn_id="t1", user_id="1", order_id="o1", amount=5, now=0.0
    )
    await bank.transact(reserve)
    before = await bank.read(accounts_now)
    over = [User("0", MAX_INT32), User("1", MAX_INT32 - 4)]
    with pytest.raises(ShopError) as info:
        await bank.transact(partial(accounts.check_users, batch=over))
    assert info.value.reason == "CREDIT_OVERFLOW"

    fits = [User("0", MAX_INT32), User("1", MAX_INT32 - 5)]
    await bank.transact(partial(accounts.check_users, batch=fits))
    assert await bank.read(accounts_now) == before


async def test_add_funds_up_to_the_32_bit_limit(bank):
    assert (await bank.transact(call(accounts.add_funds, amount=25))).credit == 75
    await bank.transact(call(accounts.add_funds, user_id="1", amount=MAX_INT32 - 50))
    assert await bank.read(accounts_now) == ([User("0", 75), User("1", MAX_INT32)], [None, None])


async def test_add_funds_past_the_32_bit_limit_is_refused(bank, refused):
    await bank.transact(call(accounts.add_funds, amount=MAX_INT32 - 50))
    work = call(accounts.add_funds, amount=1)
    await refused(bank, work, "CREDIT_OVERFLOW", snapshot=accounts_now, kind=Kind.OUT_OF_RANGE)


async def test_pay_down_to_zero(bank):
    assert (await bank.transact(call(accounts.pay, amount=20))).credit == 30
    await bank.transact(call(accounts.pay, user_id="1", amount=50))
    assert await bank.read(accounts_now) == ([User("0", 30), User("1", 0)], [None, None])


@pytest.mark.parametrize("rule", [accounts.pay, accounts.pay_order])
async def test_paying_more_than_the_credit_is_refused(bank, refused, rule):
    error = await refused(bank, call(rule, amount=51), "INSUFFICIENT_CREDIT", snapshot=accounts_now)
    assert error.kind is Kind.FAILED_PRECONDITION
    assert error.metadata == {"user_id": "0", "credit": "50", "requested": "51"}


@pytest.mark.parametrize("rule", AMOUNT_RULES)
async def test_bad_amount_is_refused(bank, refused, rule, bad_number):
    amount, kind = bad_number
    work = call(rule, amount=amount)
    await refused(bank, work, "INVALID_AMOUNT", snapshot=accounts_now, kind=kind)


@pytest.mark.parametrize("rule", RULES)
async def test_unknown_user_is_refused(bank, refused, rule):
    work = call(rule, user_id="2")
    await refused(bank, work, "USER_NOT_FOUND", snapshot=accounts_now, kind=Kind.NOT_FOUND)


@pytest.mark.parametrize("rule", RULES)
async def test_bad_user_id_is_refused(bank, refused, rule, bad_id):
    work = call(rule, user_id=bad_id)
    await refused(bank, work, "INVALID_ID", snapshot=accounts_now, kind=Kind.INVALID_ARGUMENT)


@pytest.mark.parametrize("rule", ORDER_RULES)
async def test_bad_order_id_is_refused(bank, refused, rule, bad_id):
    work = call(rule, order_id=bad_id)
    await refused(bank, work, "INVALID_ID", snapshot=accounts_now, kind=Kind.INVALID_ARGUMENT)


async def test_pay_order_charges_once_for_a_repeated_request(bank):
    for _ in range(3):
        user = await bank.transact(call(accounts.pay_order, amount=20))
        assert user == User("0", 30)
    assert await bank.read(call(accounts.payment_status))
    assert await bank.read(accounts_now) == (
        [User("0", 30), User("1", 50)],
        [DirectPayment("0", "o1", 20), None],
    )


async def test_pay_order_charges_each_order_and_each_user(bank):
    await bank.transact(call(accounts.pay_order, amount=20))
    await bank.transact(call(accounts.pay_order, order_id="o2", amount=5))
    await bank.transact(call(accounts.pay_order, user_id="1", amount=20))
    assert await bank.read(credit("0")) == 25
    assert await bank.read(credit("1")) == 30


async def test_pay_order_with_another_amount_is_a_conflict(bank, refused):
    await bank.transact(call(accounts.pay_order, amount=20))
    work = call(accounts.pay_order, amount=21)
    error = await refused(bank, work, "PAYMENT_CONFLICT", snapshot=accounts_now)
    assert error.kind is Kind.ALREADY_EXISTS


async def test_refused_pay_order_records_no_payment(bank):
    with pytest.raises(ShopError) as info:
        await bank.transact(call(accounts.pay_order, amount=51))
    assert info.value.reason == "INSUFFICIENT_CREDIT"
    assert not await bank.read(call(accounts.payment_status))


async def test_cancel_payment_refunds_once(bank):
    await bank.transact(call(accounts.pay_order, amount=20))
    for _ in range(2):
        assert await bank.transact(call(accounts.cancel_payment)) == User("0", 50)
    assert not await bank.read(call(accounts.payment_status))
    assert await bank.read(accounts_now) == (
        [User("0", 50), User("1", 50)],
        [DirectPayment("0", "o1", 20, refunded=True), None],
    )


async def test_paying_a_refunded_order_again_charges_again(bank):
    await bank.transact(call(accounts.pay_order, amount=20))
    await bank.transact(call(accounts.cancel_payment))
    assert await bank.transact(call(accounts.pay_order, amount=30)) == User("0", 20)
    assert await bank.read(call(accounts.payment_status))
    assert await bank.transact(call(accounts.cancel_payment)) == User("0", 50)


@pytest.mark.parametrize(
    ("user_id", "order_id"), [("1", "o1"), ("0", "o2")], ids=["other-user", "other-order"]
)
async def test_cancel_without_a_payment_is_refused(bank, refused, user_id, order_id):
    await bank.transact(call(accounts.pay_order, user_id=user_id, order_id=order_id))
    await refused(bank, call(accounts.cancel_payment), "PAYMENT_NOT_FOUND", snapshot=accounts_now)


async def test_refund_past_the_32_bit_limit_is_refused_and_stays_paid(bank, refused):
    await bank.transact(call(accounts.pay_order, amount=20))
    await bank.transact(call(accounts.add_funds, amount=MAX_INT32 - 30))
    await refused(bank, call(accounts.cancel_payment), "CREDIT_OVERFLOW", snapshot=accounts_now)
    assert await bank.read(call(accounts.payment_status))


async def test_payment_status_follows_pay_and_cancel(bank):
    status = call(accounts.payment_status)
    assert not await bank.read(status)
    await bank.transact(call(accounts.pay_order, amount=1))
    assert await bank.read(status)
    assert not await bank.read(call(accounts.payment_status, user_id="1"))
    await bank.transact(call(accounts.cancel_payment))
    assert not await bank.read(status)
