"""A read-only admin over bookcore's tables; staff cancel bookings through bookcore's service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from bookcore.cancellation import cancel_booking
from bookcore.clock import SystemClock
from bookcore.contrib.django.models import Booking, Payment, Refund, WalletEntry
from bookcore.contrib.django.unit_of_work import DjangoUnitOfWork
from bookcore.errors import BookcoreError
from bookcore.model import Actor

if TYPE_CHECKING:  # django-stubs' admin classes are generic; Django's own cannot be subscripted
    ModelAdmin = admin.ModelAdmin[Any]
    PaymentInlineBase = admin.TabularInline[Payment, Booking]
    RefundInlineBase = admin.TabularInline[Refund, Booking]
else:
    ModelAdmin = admin.ModelAdmin
    PaymentInlineBase = RefundInlineBase = admin.TabularInline


class ReadOnlyAdmin(ModelAdmin):
    """bookcore's services change these rows; the admin only shows them."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PaymentInline(PaymentInlineBase):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("id", "outcome", "wallet_amount", "gateway_amount", "gateway_reference", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RefundInline(RefundInlineBase):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("id", "mode", "to_wallet", "to_gateway", "reason", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer_id", "item_id", "quantity", "status", "total_amount", "currency",
                    "reserved_at", "expires_at")
    list_filter = ("status", "currency")
    search_fields = ("=id", "=customer_id", "=item_id")
    date_hierarchy = "reserved_at"
    inlines = (PaymentInline, RefundInline)
    actions = ("cancel_bookings",)

    @admin.action(description="Cancel the selected bookings (refund to wallet)", permissions=["view"])
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        actor = Actor.staff(f"django-user:{request.user.pk}")
        for booking in queryset:
            try:
                result = cancel_booking(DjangoUnitOfWork(queryset.db), booking_id=booking.id,
                                        actor=actor, clock=SystemClock())
            except BookcoreError as error:
                self.message_user(request, f"Booking {booking.id} not cancelled: {error.message}",
                                  messages.ERROR)
                continue
            refunded = result.refund.to_wallet + result.refund.to_gateway if result.refund else 0
            self.message_user(request, f"Booking {booking.id} cancelled: {result.released_units} unit(s) "
                                       f"released, {refunded} {booking.currency} refunded")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "booking", "outcome", "wallet_amount", "gateway_amount", "currency",
                    "created_at")
    list_filter = ("outcome", "currency")
    search_fields = ("=id", "=booking__id", "=idempotency_key", "=gateway_reference")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "booking", "mode", "to_wallet", "to_gateway", "currency", "created_at")
    list_filter = ("mode", "currency")
    search_fields = ("=id", "=booking__id")


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "customer_id", "currency", "kind", "amount", "reason", "booking_id",
                    "created_at")
    list_filter = ("kind", "currency")
    search_fields = ("=customer_id", "=booking_id")
