"""Working days: China's public holidays and the weekend days worked in their place, and each tenant's own days."""
